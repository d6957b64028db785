"""Column types shared by several domains."""

from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Enum
from sqlalchemy.dialects.postgresql import JSONB

# JSONB on PostgreSQL (indexable, compact); plain JSON text on SQLite.
JsonList = JSON().with_variant(JSONB(), "postgresql")


def enum_values(enum_class: type[Any]) -> list[str]:
    """Store an enum by its value (`"staff"`), not by its Python name (`"STAFF"`)."""
    return [member.value for member in enum_class]


def string_enum(enum_class: type[StrEnum], name: str) -> Enum:
    """An enum column stored as its value in a checked string, the same on both databases."""
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        values_callable=enum_values,
        length=16,
    )
