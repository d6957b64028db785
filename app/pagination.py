"""Cursor paging: `limit` (1-200, default 50) and an opaque `cursor` from the last page."""

import base64
import binascii
import json
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

from app.errors import InvalidInputError

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
    if kind is datetime:
        try:
            moment = datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            return None
        return moment if moment is not None and moment.tzinfo is not None else None
    if kind is int and isinstance(value, bool):
        return None
    return value if isinstance(value, kind) else None
