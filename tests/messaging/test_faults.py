"""A clinical message is never lost, doubled or half-written, whatever fails.

Each test injects one fault at a boundary: the FHIR server down, slow or
talking nonsense; the SQL commit failing after the FHIR write; many senders at
once. Then it checks that FHIR and SQL hold the same messages, exactly once.
"""

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fhir.resources.R4B.communication import Communication

from app.config import Settings
from app.fhir.resources import MessageRecord, parse_message, thread_search
from app.main import create_app
from tests.support.app import running_client
from tests.support.conversations import Thread
from tests.support.faults import FaultyFhir, failing_message_commits
from tests.support.fhir import fhir_gateway
from tests.support.live import live_server
from tests.support.processes import free_port, parley_environment, run_parley
from tests.support.world import call, ok

HAPI_ONLY = pytest.mark.parametrize(
    "fhir_url", [pytest.param("hapi", marks=pytest.mark.hapi)], indirect=True
)


async def fhir_thread(settings: Settings, header_fhir_id: str) -> list[MessageRecord]:
    """The thread as FHIR holds it, in send order."""
    async with fhir_gateway(settings) as gateway:
        found = [
            parse_message(resource)
            async for resource in gateway.search(
                Communication, thread_search(header_fhir_id, page_size=100)
            )
        ]
    return sorted(found, key=lambda record: record.sent)


async def sql_thread(client: httpx.AsyncClient, thread: Thread) -> list[dict[str, Any]]:
    page = await ok(
        await call(client, "GET", f"{thread.url}/messages?limit=200", thread.world.clinician_a)
    )
    return list(page["items"])


async def header_id(client: httpx.AsyncClient, thread: Thread) -> str:
    return str(
        (await ok(await call(client, "GET", thread.url, thread.world.clinician_a)))["fhir_id"]
    )


async def assert_same_in_sql_and_fhir(
    client: httpx.AsyncClient, thread: Thread, settings: Settings
) -> list[str]:
    in_sql = [message["fhir_id"] for message in await sql_thread(client, thread)]
    in_fhir = [
        str(record.fhir_id)
        for record in await fhir_thread(settings, await header_id(client, thread))
    ]
    assert in_sql == in_fhir
    assert len(set(in_sql)) == len(in_sql)
    return in_sql


def with_key(thread: Thread, key: str) -> dict[str, str]:
    return thread.world.clinician_a.headers | {"Idempotency-Key": key}


@pytest.mark.usefixtures("fhir_url")
async def test_fhir_down_is_503_then_the_same_key_succeeds_once(
    client: httpx.AsyncClient, thread: Thread, settings: Settings
) -> None:
    dead = settings.model_copy(
        update={
            "fhir_url": f"http://127.0.0.1:{free_port()}/fhir",
            "fhir_connect_timeout_seconds": 0.5,
        }
    )
    body, headers = {"text": "Are you there?"}, with_key(thread, "down-then-up")

    async with running_client(create_app(dead)) as down_client:
        down = await down_client.post(f"{thread.url}/messages", json=body, headers=headers)
    while_down = await sql_thread(client, thread)
    back = await client.post(f"{thread.url}/messages", json=body, headers=headers)
    again = await client.post(f"{thread.url}/messages", json=body, headers=headers)

    assert down.status_code == 503
    assert down.json()["type"].endswith("fhir-unavailable")
    assert len(while_down) == 1
    assert back.status_code == again.status_code == 201
    assert again.json() == back.json()
    assert len(await assert_same_in_sql_and_fhir(client, thread, settings)) == 2


@pytest.mark.usefixtures("fhir_url")
async def test_a_failed_commit_after_the_fhir_write_is_finished_by_a_retry_once(
    client: httpx.AsyncClient, thread: Thread, settings: Settings
) -> None:
    body, headers = {"text": "Please call the ward"}, with_key(thread, "commit-fails")

    with failing_message_commits() as failed:
        lost = await client.post(f"{thread.url}/messages", json=body, headers=headers)
    orphans = await fhir_thread(settings, await header_id(client, thread))
    rows = await sql_thread(client, thread)
    retried = await client.post(f"{thread.url}/messages", json=body, headers=headers)

    assert failed == [1]
    assert lost.status_code == 503
    assert lost.json()["type"].endswith("database-unavailable")
    assert (len(orphans), len(rows)) == (2, 1)  # in FHIR, not yet in SQL
    assert retried.status_code == 201
    assert retried.json()["fhir_id"] == str(orphans[1].fhir_id)
    assert len(await assert_same_in_sql_and_fhir(client, thread, settings)) == 2


@pytest.mark.usefixtures("fhir_url")
async def test_the_periodic_reconciler_projects_an_orphan_once_and_a_retry_finds_it(
    thread: Thread, settings: Settings
) -> None:
    reconciling = settings.model_copy(update={"reconcile_seconds": 0.3})
    body, headers = {"text": "Reconcile me"}, with_key(thread, "reconciled")

    async with running_client(create_app(reconciling)) as client:
        with failing_message_commits():
            lost = await client.post(f"{thread.url}/messages", json=body, headers=headers)
        for _ in range(50):
            if len(await sql_thread(client, thread)) == 2:
                break
            await asyncio.sleep(0.2)
        projected = await sql_thread(client, thread)
        retried = await client.post(f"{thread.url}/messages", json=body, headers=headers)
        metrics_text = await _metrics(reconciling)

        assert lost.status_code == 503
        assert len(projected) == 2
        assert retried.status_code == 201
        assert retried.json()["id"] == projected[1]["id"]
        assert len(await assert_same_in_sql_and_fhir(client, thread, settings)) == 2
    assert "parley_reconciler_projected_total" in metrics_text


async def _metrics(settings: Settings) -> str:
    async with running_client(
        create_app(settings.model_copy(update={"metrics_enabled": True}))
    ) as client:
        return (await client.get("/metrics")).text


@pytest.mark.usefixtures("fhir_url")
async def test_fifty_concurrent_sends_make_fifty_messages_in_one_order(
    client: httpx.AsyncClient, thread: Thread, settings: Settings
) -> None:
    senders = [thread.world.clinician_a, thread.world.patient_1_user]

    answers = await asyncio.gather(
        *(
            call(
                client,
                "POST",
                f"{thread.url}/messages",
                senders[number % 2],
                json={"text": f"message {number}"},
            )
            for number in range(50)
        )
    )
    detail = await ok(await call(client, "GET", thread.url, thread.world.clinician_a))
    patient_view = await ok(
        await call(client, "GET", "/api/v1/conversations", thread.world.patient_1_user)
    )

    assert [answer.status_code for answer in answers] == [201] * 50
    in_order = await assert_same_in_sql_and_fhir(client, thread, settings)
    assert len(in_order) == 51
    newest = max(
        (answer.json() for answer in answers),
        key=lambda message: datetime.fromisoformat(message["sent_at"]),
    )
    assert detail["last_message"]["id"] == newest["id"]
    assert detail["last_message"]["sent_at"] == newest["sent_at"]
    # The patient has not read the 26 messages the clinician sent (the first included).
    assert patient_view["items"][0]["unread_count"] == 26


@HAPI_ONLY
@pytest.mark.parametrize("mode", ["error", "garbage", "wrong-type"])
async def test_fhir_failures_and_nonsense_are_503_and_write_no_row(
    client: httpx.AsyncClient, thread: Thread, settings: Settings, fhir_url: str, mode: str
) -> None:
    proxy = FaultyFhir(fhir_url)
    proxy.mode = mode
    async with live_server(proxy.app) as proxy_url:
        faulty = settings.model_copy(update={"fhir_url": f"{proxy_url}/fhir"})
        async with running_client(create_app(faulty)) as faulty_client:
            response = await faulty_client.post(
                f"{thread.url}/messages",
                json={"text": "hello"},
                headers=thread.world.clinician_a.headers,
            )

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert "Traceback" not in response.text
    assert len(await assert_same_in_sql_and_fhir(client, thread, settings)) == 1


@HAPI_ONLY
async def test_a_slow_fhir_is_503_in_time_and_its_late_write_is_projected_once(
    client: httpx.AsyncClient, thread: Thread, settings: Settings, fhir_url: str
) -> None:
    proxy = FaultyFhir(fhir_url)
    since = datetime.now(UTC).replace(microsecond=0)
    body, headers = {"text": "Slowly does it"}, with_key(thread, "slow")
    async with live_server(proxy.app) as proxy_url:
        slow = settings.model_copy(
            update={"fhir_url": f"{proxy_url}/fhir", "fhir_read_timeout_seconds": 0.5}
        )
        async with running_client(create_app(slow)) as slow_client:
            # The server answers long after Parley's 0.5 s read timeout: a wide margin, so a
            # busy machine cannot make "gave up in time" look late.
            proxy.mode, proxy.delay = "slow", 3.0
            started = time.monotonic()
            timed_out = await slow_client.post(f"{thread.url}/messages", json=body, headers=headers)
            elapsed = time.monotonic() - started
            late = await asyncio.gather(*proxy.late_writes)

    env = parley_environment(
        PARLEY_DATABASE_URL=settings.database_url, PARLEY_FHIR_URL=settings.fhir_url
    )
    reconciled = await run_parley("reproject", "--since", since.isoformat(), env=env)
    retried = await client.post(f"{thread.url}/messages", json=body, headers=headers)

    assert timed_out.status_code == 503
    assert elapsed < 2.5  # well before the server's answer at 3 s
    assert [write.status_code for write in late] == [201]
    assert reconciled.code == 0, reconciled.stderr
    assert retried.status_code == 201
    assert len(await assert_same_in_sql_and_fhir(client, thread, settings)) == 2
