"""The audit log: admins read and filter it; nobody can change it, not even in the database."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.config import Settings
from app.db import create_engine
from tests.support.auth import Account
from tests.support.conversations import Thread, send
from tests.support.world import call, ok


async def test_admins_read_the_log_filtered_by_patient_user_and_time(
    client: httpx.AsyncClient, thread: Thread, admin: Account
) -> None:
    world = thread.world
    await send(client, thread, world.patient_1_user, "A question")

    everything = await ok(await call(client, "GET", "/api/v1/audit?limit=200", admin))
    about_patient = await ok(
        await call(
            client,
            "GET",
            "/api/v1/audit",
            admin,
            params={"patient_id": world.patient_1, "limit": 200},
        )
    )
    by_patient_user = await ok(
        await call(
            client, "GET", "/api/v1/audit", admin, params={"user_id": world.patient_1_user.id}
        )
    )
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    nothing_yet = await ok(
        await call(client, "GET", "/api/v1/audit", admin, params={"since": future})
    )
    naive = await call(
        client, "GET", "/api/v1/audit", admin, params={"since": "2026-01-01T00:00:00"}
    )

    ids = [row["id"] for row in everything["items"]]
    assert ids == sorted(ids, reverse=True)
    assert {row["patient_id"] for row in about_patient["items"]} == {world.patient_1}
    assert "messages.send" in {row["action"] for row in about_patient["items"]}
    assert all(
        world.patient_1_user.id in (row["actor_id"], row["target_user_id"])
        for row in by_patient_user["items"]
    )
    assert nothing_yet["items"] == []
    assert naive.status_code == 422


async def test_only_admins_read_the_log(client: httpx.AsyncClient, thread: Thread) -> None:
    for account in (thread.world.clinician_a, thread.world.patient_1_user):
        assert (await call(client, "GET", "/api/v1/audit", account)).status_code == 403


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_events SET action = 'nothing'", "DELETE FROM audit_events"]
)
async def test_the_database_refuses_to_change_the_log(
    thread: Thread, settings: Settings, statement: str
) -> None:
    engine = create_engine(settings.database_url)
    try:
        with pytest.raises(DBAPIError, match="append-only"):
            async with engine.begin() as connection:
                await connection.execute(text(statement))
    finally:
        await engine.dispose()
