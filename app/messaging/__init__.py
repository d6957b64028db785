"""Conversations about one patient, their messages, receipts and team groups."""
