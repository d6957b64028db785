"""An open event stream holds the rights of now, not the rights it opened with: it ends
within seconds of a logout, and stops carrying a conversation within seconds of losing
the competency or the organisation that allowed it."""

import asyncio
import time
from collections.abc import Awaitable, Callable

import httpx
import pytest

from app.config import Settings
from app.main import create_app
from tests.support.auth import Account
from tests.support.conversations import Thread, send
from tests.support.live import ReceivedEvent, live_server, read_events
from tests.support.world import World, call, ok, staff_member

WITHIN_SECONDS = 4.0  # the stream rechecks every 2 s; allow one recheck and some


@pytest.fixture
async def events_server(settings: Settings) -> str:  # type: ignore[misc]
    async with live_server(create_app(settings)) as base_url:
        yield base_url


async def heard_of(events: list[ReceivedEvent], message_id: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if any(event.data.get("message_id") == message_id for event in events):
            return True
        await asyncio.sleep(0.05)
    return False


async def test_a_stream_ends_within_seconds_of_logout(
    client: httpx.AsyncClient, thread: Thread, events_server: str
) -> None:
    clinician = thread.world.clinician_a
    events: list[ReceivedEvent] = []
    reader = asyncio.create_task(read_events(events_server, clinician.access_token, events))
    await asyncio.sleep(0.5)

    await ok(await call(client, "POST", "/api/v1/auth/logout", clinician))
    started = time.monotonic()
    done, _ = await asyncio.wait({reader}, timeout=WITHIN_SECONDS + 1)
    ended_after = time.monotonic() - started
    reader.cancel()

    assert reader in done, "the stream outlived the logout"
    assert ended_after < WITHIN_SECONDS


async def remove_competency(client: httpx.AsyncClient, root: Account, world: World) -> None:
    body = {"removed_competencies": ["view_patient_record"]}
    await ok(await call(client, "PATCH", f"/api/v1/users/{world.nurse_a.id}", root, json=body))


async def leave_organisation(client: httpx.AsyncClient, root: Account, world: World) -> None:
    url = f"/api/v1/organisations/{world.org_a}/staff/{world.nurse_a.id}"
    await ok(await call(client, "DELETE", url, root))


async def demote_to_patient(client: httpx.AsyncClient, root: Account, world: World) -> None:
    body = {"system_permissions": "patient"}
    await ok(await call(client, "PATCH", f"/api/v1/users/{world.nurse_a.id}", root, json=body))


@pytest.mark.parametrize("lose_access", [remove_competency, leave_organisation, demote_to_patient])
async def test_a_stream_stops_carrying_a_conversation_within_seconds_of_losing_access(
    client: httpx.AsyncClient,
    thread: Thread,
    admin: Account,
    events_server: str,
    lose_access: Callable[[httpx.AsyncClient, Account, World], Awaitable[None]],
) -> None:
    world = thread.world  # nurse A sees the thread as a member of its organisation
    events: list[ReceivedEvent] = []
    reader = asyncio.create_task(read_events(events_server, world.nurse_a.access_token, events))
    await asyncio.sleep(0.5)
    before = await ok(await send(client, thread, world.clinician_a, "Before"))
    heard_before = await heard_of(events, before["id"], 2.0)

    await lose_access(client, admin, world)
    await asyncio.sleep(WITHIN_SECONDS)
    after = await ok(await send(client, thread, world.clinician_a, "After"))
    heard_after = await heard_of(events, after["id"], 1.5)
    reader.cancel()
    await asyncio.gather(reader, return_exceptions=True)

    assert heard_before
    assert not heard_after


async def test_a_new_member_of_staff_hears_of_messages_on_a_stream_opened_before(
    client: httpx.AsyncClient, thread: Thread, admin: Account, events_server: str
) -> None:
    """The other way round: rights gained reach an open stream too."""
    world = thread.world
    newcomer = await staff_member(client, admin, "newcomer", None)
    events: list[ReceivedEvent] = []
    reader = asyncio.create_task(read_events(events_server, newcomer.access_token, events))
    await asyncio.sleep(0.5)

    url = f"/api/v1/organisations/{world.org_a}/staff/{newcomer.id}"
    await ok(await call(client, "PUT", url, admin, json={"is_primary": True}))
    await asyncio.sleep(WITHIN_SECONDS)
    sent = await ok(await send(client, thread, world.clinician_a, "Welcome"))
    heard = await heard_of(events, sent["id"], 1.5)
    reader.cancel()
    await asyncio.gather(reader, return_exceptions=True)

    assert heard
