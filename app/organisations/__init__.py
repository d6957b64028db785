"""Organisations, their staff and patients, and the features they switch on."""
