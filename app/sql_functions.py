"""SQL that PostgreSQL and SQLite spell differently, under one name.

`json_rows(a, b, ...)` aggregates the rows of a (sub)query into one JSON array of arrays,
so a list that belongs to each row of a page (its participants, its receipts) comes back
with the page in the same statement instead of in a query of its own. The order of the
aggregated rows is not promised (SQLite before 3.44 cannot order inside an aggregate):
include a column to sort by. Over no rows it is NULL on PostgreSQL and `[]` on SQLite;
`rows_of` reads both as a list.
"""

from typing import Any

from sqlalchemy import JSON
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import GenericFunction


class json_rows(GenericFunction[Any]):
    type = JSON()
    inherit_cache = True


@compiles(json_rows, "postgresql")
def _json_rows_postgresql(element: json_rows, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_agg(json_build_array({compiler.process(element.clauses, **kw)}))"


@compiles(json_rows, "sqlite")
def _json_rows_sqlite(element: json_rows, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_group_array(json_array({compiler.process(element.clauses, **kw)}))"


def rows_of(value: list[list[Any]] | None) -> list[list[Any]]:
    return value or []
