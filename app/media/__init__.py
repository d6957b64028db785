"""Untrusted images and voice notes: recognised by their bytes and cleaned in worker
processes with a memory ceiling and a time limit. Knows nothing of messages."""
