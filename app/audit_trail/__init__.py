"""The audit log as people read it: filtered, paged, with names, for those allowed."""
