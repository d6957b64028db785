"""Alembic is the only way the schema is made, and it makes exactly what the models say."""

from typing import Any

import httpx
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import Settings
from app.db import create_engine
from app.migrations import downgrade_to, downgrade_to_base, upgrade_to_head
from app.models import Base
from tests.support.auth import Account
from tests.support.conversations import start_conversation
from tests.support.projection import snapshot
from tests.support.world import build_world, call, ok


def schema_differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def receipts(engine: AsyncEngine) -> list[tuple[Any, ...]]:
    async with engine.connect() as connection:
        statement = "SELECT message_id, user_id, read_at FROM message_receipts ORDER BY 1, 2"
        return [tuple(row) for row in await connection.exec_driver_sql(statement)]


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


async def test_migrating_a_database_in_use_keeps_every_row(
    client: httpx.AsyncClient, admin: Account, settings: Settings
) -> None:
    """Down to the revision before the newest and up again, over conversations with
    messages and receipts: SQLite rebuilds tables to alter them, and must lose nothing."""
    world = await build_world(client, admin)
    started = await start_conversation(client, world, world.clinician_a, include_patient=True)
    path = f"/api/v1/conversations/{started['id']}/messages"
    await ok(await call(client, "POST", path, world.patient_1_user, json={"text": "Thanks"}))
    before = await snapshot(settings.database_url)
    engine = create_engine(settings.database_url)
    try:
        receipts_before = await receipts(engine)
        await downgrade_to(engine, "-1")
        await upgrade_to_head(engine)
        receipts_after = await receipts(engine)
    finally:
        await engine.dispose()
    after = await snapshot(settings.database_url)
    thread = await ok(await call(client, "GET", path, world.clinician_a))

    assert len(receipts_before) == 2
    assert receipts_after == receipts_before
    assert after == before
    assert [item["text"] for item in thread["items"]][-1] == "Thanks"
