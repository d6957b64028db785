"""Alembic environment: runs on a connection handed over by the app, or on its own."""

import asyncio
from typing import Any, Literal

from alembic import context
from sqlalchemy import Connection

from app.config import Settings
from app.db import UtcDateTime, create_engine
from app.models import Base

target_metadata = Base.metadata


def render_item(kind: str, item: Any, _context: Any) -> str | Literal[False]:
    """Write our column types as plain SQLAlchemy ones, so migrations never import app code."""
    if kind == "type" and isinstance(item, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_on_connection(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_with_own_engine(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            if connection.dialect.name == "sqlite":
                # As app.migrations does: a table rebuild must not cascade into its rows.
                await connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
                await connection.commit()
            async with connection.begin():
                await connection.run_sync(run_on_connection)
    finally:
        await engine.dispose()


def main() -> None:
    handed_over = context.config.attributes.get("connection")
    if handed_over is not None:
        run_on_connection(handed_over)
        return
    url = context.config.get_main_option("sqlalchemy.url") or Settings().database_url
    asyncio.run(run_with_own_engine(url))


if context.is_offline_mode():
    raise SystemExit("Offline (--sql) migrations are not supported; run against a database.")
main()
