"""Conversations about one patient and their messages: the rules of messaging, the one
write path (FHIR first, then SQL), the one projector, and the inbox and thread as read."""
