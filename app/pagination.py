"""Cursor paging: `limit` (1-200, default 50) and an opaque `cursor` from the last page."""

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

from app.errors import InvalidInputError
from app.ids import INT64_MAX
from app.text import has_control_characters

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

LimitQuery = Annotated[
    int, Query(ge=1, le=MAX_LIMIT, description="Items per page (default 50, at most 200).")
]
CursorQuery = Annotated[
    str | None,
    Query(max_length=512, description="The `next_cursor` of the previous page."),
]


ItemT = TypeVar("ItemT")


class Page(BaseModel, Generic[ItemT]):
    items: list[ItemT]
    next_cursor: str | None


def encode_cursor(*values: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, default=str).encode()).decode()


def decode_cursor(cursor: str, *kinds: type, parameter: str = "cursor") -> tuple[Any, ...]:
    """The values a cursor holds, each of its kind (`int`, `str`, or an aware `datetime`);
    a cursor that was not ours is a 422 on its query parameter, never a failed query."""
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        values = None
    if not isinstance(values, list) or len(values) != len(kinds):
        raise InvalidInputError("The cursor is not valid.", field=("query", parameter))
    typed = tuple(_typed(value, kind) for value, kind in zip(values, kinds, strict=True))
    if None in typed:
        raise InvalidInputError("The cursor is not valid.", field=("query", parameter))
    return typed


def _typed(value: Any, kind: type) -> Any:
    """The value if it is of its kind and within what the database holds, else None."""
    if kind is datetime:
        return _moment(value)
    if kind is int:
        is_int = isinstance(value, int) and not isinstance(value, bool)
        return value if is_int and 0 <= value <= INT64_MAX else None
    if kind is str:
        return value if isinstance(value, str) and not has_control_characters(value) else None
    return value if isinstance(value, kind) else None


def _moment(value: Any) -> datetime | None:
    """An aware time that converts to UTC (a year-1 time with a negative offset does not)."""
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
        if moment is None or moment.tzinfo is None:
            return None
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return None
