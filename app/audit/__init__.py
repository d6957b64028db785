"""Who read or wrote what, when: an append-only log, written by every domain."""
