"""Alembic is the only way the schema is made, and it makes exactly what the models say."""

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect

from app.db import create_engine
from app.migrations import downgrade_to_base, upgrade_to_head
from app.models import Base


def schema_differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def table_names(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names()) - {"alembic_version"}


async def test_upgrade_head_on_an_empty_database_matches_the_models(
    empty_database_url: str,
) -> None:
    engine = create_engine(empty_database_url)
    try:
        await upgrade_to_head(engine)
        async with engine.connect() as connection:
            differences = await connection.run_sync(schema_differences)
            tables = await connection.run_sync(table_names)
    finally:
        await engine.dispose()

    assert differences == []
    assert tables == set(Base.metadata.tables)


async def test_downgrade_removes_everything_and_upgrade_rebuilds_it(
    empty_database_url: str,
) -> None:
    engine = create_engine(empty_database_url)
    try:
        await upgrade_to_head(engine)
        await downgrade_to_base(engine)
        async with engine.connect() as connection:
            after_downgrade = await connection.run_sync(table_names)
        await upgrade_to_head(engine)
        async with engine.connect() as connection:
            differences = await connection.run_sync(schema_differences)
    finally:
        await engine.dispose()

    assert after_downgrade == set()
    assert differences == []
