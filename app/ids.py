"""Bounds on row ids taken from requests, matching the columns they are looked up in.

An id beyond its column's range cannot name a row; checked here, it is a 422
instead of an overflow in the database driver.
"""

from typing import Annotated

from fastapi import Form, Path, Query
from pydantic import Field

INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1

RowId = Annotated[int, Field(ge=1, le=INT32_MAX)]
BigRowId = Annotated[int, Field(ge=1, le=INT64_MAX)]
PathId = Annotated[int, Path(ge=1, le=INT32_MAX)]
BigPathId = Annotated[int, Path(ge=1, le=INT64_MAX)]
QueryId = Annotated[int | None, Query(ge=1, le=INT32_MAX)]
FormId = Annotated[int, Form(ge=1, le=INT32_MAX)]


def in_int32(value: int) -> bool:
    return 1 <= value <= INT32_MAX
