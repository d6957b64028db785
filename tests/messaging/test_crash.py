"""A process killed in the middle of sends: whatever was acknowledged is kept, once."""

import asyncio
import signal
from datetime import UTC, datetime

import httpx
import pytest

from app.config import Settings
from tests.messaging.test_faults import assert_same_in_sql_and_fhir
from tests.support.conversations import Thread
from tests.support.processes import parley_environment, parley_serve, run_parley

SENDS = 40


async def send_all(
    base_url: str,
    thread: Thread,
    acknowledged: list[dict[str, object]],
    quarter_done: asyncio.Event | None = None,
) -> list[object]:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:

        async def one(number: int) -> object:
            headers = thread.world.clinician_a.headers | {"Idempotency-Key": f"crash-{number}"}
            response = await client.post(
                f"{thread.url}/messages", json={"text": f"m{number}"}, headers=headers
            )
            if response.status_code == 201:
                acknowledged.append(response.json())
                if quarter_done is not None and len(acknowledged) >= SENDS // 4:
                    quarter_done.set()
            return response.status_code

        return list(await asyncio.gather(*(one(n) for n in range(SENDS)), return_exceptions=True))


@pytest.mark.usefixtures("fhir_url")
async def test_every_acknowledged_send_survives_a_killed_process_exactly_once(
    client: httpx.AsyncClient, thread: Thread, settings: Settings
) -> None:
    env = parley_environment(
        PARLEY_DATABASE_URL=settings.database_url, PARLEY_FHIR_URL=settings.fhir_url
    )
    since = datetime.now(UTC).replace(microsecond=0)
    acknowledged: list[dict[str, object]] = []

    async with parley_serve(env) as (base_url, process):
        quarter_done = asyncio.Event()
        sending = asyncio.create_task(send_all(base_url, thread, acknowledged, quarter_done))
        await asyncio.wait_for(quarter_done.wait(), 60)
        process.send_signal(signal.SIGKILL)
        outcomes = await sending
    reconciled = await run_parley("reproject", "--since", since.isoformat(), env=env)

    assert reconciled.code == 0, reconciled.stderr
    assert 0 < len(acknowledged) < SENDS, outcomes
    kept = await assert_same_in_sql_and_fhir(client, thread, settings)
    assert {str(message["fhir_id"]) for message in acknowledged} <= set(kept)

    # The senders who got no answer retry with their keys: each message ends up there once.
    async with parley_serve(env) as (base_url, _):
        retried: list[dict[str, object]] = []
        await send_all(base_url, thread, retried)
    final = await assert_same_in_sql_and_fhir(client, thread, settings)
    assert len(retried) == SENDS
    assert len(final) == SENDS + 1
