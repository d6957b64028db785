"""Who read or wrote what, when: an append-only log."""
