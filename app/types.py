"""Column types shared by several domains."""

from typing import Any

from sqlalchemy import JSON
from sqlalchemy.dialects.postgresql import JSONB

# JSONB on PostgreSQL (indexable, compact); plain JSON text on SQLite.
JsonList = JSON().with_variant(JSONB(), "postgresql")


def enum_values(enum_class: type[Any]) -> list[str]:
    """Store an enum by its value (`"staff"`), not by its Python name (`"STAFF"`)."""
    return [member.value for member in enum_class]
