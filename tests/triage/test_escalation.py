"""Escalation: a patient who has waited longer than their organisation allows turns the
conversation overdue, once, however many app processes look; a reply or done ends it."""

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from app.config import Settings
from app.main import create_app
from tests.support.auth import Account
from tests.support.conversations import Thread, send
from tests.support.live import ReceivedEvent, live_server, read_events
from tests.support.processes import parley_environment, parley_serve
from tests.support.world import World, call, ok
from tests.triage.test_views import eventually_listed, listed

# A thousandth of an hour: 3.6 s. Long enough to see the conversation not yet overdue.
ALLOWANCE_HOURS = 0.001
ALLOWANCE_SECONDS = ALLOWANCE_HOURS * 3600


@pytest.fixture
async def events_server(settings: Settings) -> AsyncIterator[str]:
    """A second app, served: its own escalation passes run beside the test client's."""
    async with live_server(create_app(settings)) as base_url:
        yield base_url


async def allow(client: httpx.AsyncClient, world: World, hours: float | None) -> dict[str, object]:
    body = {"settings": {"escalate_unanswered_after_hours": hours}}
    organisation = await ok(await call(client, "PATCH", f"/api/v1/organisations/{world.org_a}",
                                       world.admin, json=body))  # fmt: skip
    settings: dict[str, object] = organisation["settings"]
    return settings


async def turned_overdue(client: httpx.AsyncClient, thread: Thread) -> Account:
    """The patient has written and waited past a short allowance: the conversation is
    overdue for its clinician, whom this answers."""
    world = thread.world
    await allow(client, world, ALLOWANCE_HOURS)
    await ok(await send(client, thread, world.patient_1_user, "Is my prescription ready?"))
    assert await eventually_listed(client, world.clinician_a, "overdue", {thread.id})
    return world.clinician_a


def overdue_events(events: list[ReceivedEvent], conversation_id: int) -> list[ReceivedEvent]:
    return [
        event for event in events
        if event.type == "conversation.updated"
        and event.data.get("conversation_id") == conversation_id
        and event.data.get("changed") == "overdue"
    ]  # fmt: skip


async def test_a_wait_longer_than_the_organisation_allows_turns_overdue_once(
    client: httpx.AsyncClient, thread: Thread, events_server: str
) -> None:
    world = thread.world
    reader = world.clinician_a
    await allow(client, world, ALLOWANCE_HOURS)
    events: list[ReceivedEvent] = []
    patient_events: list[ReceivedEvent] = []
    stream = asyncio.create_task(read_events(events_server, reader.access_token, events))
    patient = world.patient_1_user
    patient_stream = asyncio.create_task(
        read_events(events_server, patient.access_token, patient_events)
    )
    await asyncio.sleep(0.5)

    await ok(await send(client, thread, world.patient_1_user, "Is my prescription ready?"))
    waiting_from = time.monotonic()
    assert await listed(client, reader, "overdue") == set()
    assert await eventually_listed(client, reader, "overdue", {thread.id}) == {thread.id}
    turned_after = time.monotonic() - waiting_from
    await asyncio.sleep(1.0)  # several more passes of both apps
    stream.cancel()
    patient_stream.cancel()

    assert turned_after >= ALLOWANCE_SECONDS - 0.5
    assert len(overdue_events(events, thread.id)) == 1
    # The patient hears of their own message, never of how the team triages it.
    assert [event.type for event in patient_events] == ["message.created"]
    detail = await ok(await call(client, "GET", thread.url, reader))
    assert detail["awaiting_reply_since"] is not None


async def test_a_clinicians_reply_ends_the_wait_and_a_correction_does_not(
    client: httpx.AsyncClient, thread: Thread
) -> None:
    reader = await turned_overdue(client, thread)
    earlier = await ok(await call(client, "GET", f"{thread.url}/messages", reader))
    mine = [m for m in earlier["items"] if m["sender"]["id"] == reader.id][-1]

    await ok(await call(client, "POST", f"{thread.url}/messages", reader,
                        json={"text": "Corrected wording", "amends_id": mine["id"]}))  # fmt: skip
    assert await listed(client, reader, "overdue") == {thread.id}

    await ok(await send(client, thread, reader, "Yes, it is ready to collect."))
    assert await listed(client, reader, "overdue") == set()
    detail = await ok(await call(client, "GET", thread.url, reader))
    assert detail["awaiting_reply_since"] is None


async def test_done_ends_the_wait_and_the_next_patient_message_starts_a_new_one(
    client: httpx.AsyncClient, thread: Thread
) -> None:
    world = thread.world
    reader = await turned_overdue(client, thread)

    await ok(await call(client, "POST", f"{thread.url}/done", reader, json={"note": "Phoned"}))
    done = await ok(await call(client, "GET", thread.url, reader))
    await asyncio.sleep(1.0)
    assert await listed(client, reader, "overdue") == set()
    assert done["awaiting_reply_since"] is None

    await ok(await send(client, thread, world.patient_1_user, "Thanks, one more thing"))
    reopened = await ok(await call(client, "GET", thread.url, reader))
    assert reopened["done_at"] is None
    assert reopened["awaiting_reply_since"] is not None
    assert await listed(client, reader, "overdue") == set()  # a new wait, not yet too long
    assert await eventually_listed(client, reader, "overdue", {thread.id}) == {thread.id}


async def test_allowing_longer_or_switching_escalation_off_clears_overdue(
    client: httpx.AsyncClient, thread: Thread
) -> None:
    world = thread.world
    reader = await turned_overdue(client, thread)

    off = await allow(client, world, 0)
    assert off["escalate_unanswered_after_hours"] == 0
    assert await eventually_listed(client, reader, "overdue", set()) == set()

    default = await allow(client, world, None)
    await asyncio.sleep(1.0)
    assert default["escalate_unanswered_after_hours"] == 48
    assert await listed(client, reader, "overdue") == set()  # seconds, not 48 hours


@pytest.mark.parametrize("hours", [-1, 8761, "soon"])
async def test_an_allowance_that_is_not_a_number_of_hours_is_refused(
    client: httpx.AsyncClient, world: World, hours: object
) -> None:
    body = {"settings": {"escalate_unanswered_after_hours": hours}}
    response = await call(client, "PATCH", f"/api/v1/organisations/{world.org_a}",
                          world.admin, json=body)  # fmt: skip
    assert response.status_code == 422
    assert "escalate_unanswered_after_hours" in response.json()["errors"][0]["loc"]


async def test_several_app_processes_escalate_each_wait_once(
    client: httpx.AsyncClient, thread: Thread, settings: Settings
) -> None:
    """Three `parley serve` processes on one database, each passing ten times a second."""
    world = thread.world
    reader: Account = world.clinician_a
    await allow(client, world, ALLOWANCE_HOURS)
    env = parley_environment(
        PARLEY_DATABASE_URL=settings.database_url,
        PARLEY_FHIR_URL=settings.fhir_url,
        PARLEY_NOTIFY_SECONDS="0.1",
    )
    async with (
        parley_serve(env) as (first, _),
        parley_serve(env) as (_second, _),
        parley_serve(env) as (_third, _),
    ):
        events: list[ReceivedEvent] = []
        stream = asyncio.create_task(read_events(first, reader.access_token, events))
        await asyncio.sleep(0.5)
        others = []
        for n in range(5):
            started = await ok(await call(client, "POST", "/api/v1/conversations", reader, json={
                "patient_id": world.patient_1, "include_patient": True,
                "message": {"text": f"Follow-up {n}"}}))  # fmt: skip
            others.append(started["id"])
        for conversation_id in [thread.id, *others]:
            url = f"/api/v1/conversations/{conversation_id}/messages"
            await ok(await call(client, "POST", url, world.patient_1_user,
                                json={"text": "Any news?"}))  # fmt: skip
        expected = {thread.id, *others}
        assert await eventually_listed(client, reader, "overdue", expected) == expected
        # Many more passes; and on SQLite a stream hears another process's events by its
        # two-second safety poll.
        await asyncio.sleep(3.0)
        stream.cancel()

    for conversation_id in expected:
        assert len(overdue_events(events, conversation_id)) == 1, conversation_id
