"""Live events: what changed, told to those who may see it (Server-Sent Events)."""
