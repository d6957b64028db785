"""Live events: the right people hear of a message within a second, and nobody else does."""

import asyncio
import time

import httpx
import pytest

from app.config import Settings
from app.events import service as events_service
from app.events import streaming
from app.main import create_app
from tests.support.conversations import Thread, send
from tests.support.live import ReceivedEvent, live_server, read_events
from tests.support.world import call, ok


async def wait_for(events: list[ReceivedEvent], kind: str, seconds: float) -> ReceivedEvent | None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for event in events:
            if event.type == kind:
                return event
        await asyncio.sleep(0.02)
    return None


@pytest.fixture
async def events_server(settings: Settings) -> str:  # type: ignore[misc]
    async with live_server(create_app(settings)) as base_url:
        yield base_url


async def test_a_message_reaches_those_who_may_see_it_within_a_second(
    client: httpx.AsyncClient, thread: Thread, events_server: str
) -> None:
    world = thread.world
    patient_events: list[ReceivedEvent] = []
    outsider_events: list[ReceivedEvent] = []
    other_patient_events: list[ReceivedEvent] = []
    readers = [
        asyncio.create_task(
            read_events(events_server, world.patient_1_user.access_token, patient_events)
        ),
        asyncio.create_task(
            read_events(events_server, world.clinician_b.access_token, outsider_events)
        ),
        asyncio.create_task(
            read_events(events_server, world.patient_2_user.access_token, other_patient_events)
        ),
    ]
    await asyncio.sleep(0.5)  # let the streams open

    started = time.monotonic()
    sent = await ok(await send(client, thread, world.clinician_a, "Your results are back"))
    heard = await wait_for(patient_events, "message.created", 1.0)
    elapsed = time.monotonic() - started
    await ok(await call(client, "POST", f"{thread.url}/read", world.patient_1_user, json={}))
    read = await wait_for(patient_events, "message.read", 1.0)
    await asyncio.sleep(0.5)
    for reader in readers:
        reader.cancel()
    await asyncio.gather(*readers, return_exceptions=True)

    assert heard is not None, "the patient did not hear of the message"
    assert elapsed < 1.0
    assert heard.data == {
        "conversation_id": thread.id,
        "message_id": sent["id"],
        "sender_id": world.clinician_a.id,
    }
    assert read is not None
    assert outsider_events == []
    assert other_patient_events == []


async def test_last_event_id_resumes_without_loss(
    client: httpx.AsyncClient, thread: Thread, events_server: str
) -> None:
    world = thread.world
    for number in range(3):
        await send(client, thread, world.clinician_a, f"while you were away {number}")
    resumed: list[ReceivedEvent] = []

    reader = asyncio.create_task(
        read_events(events_server, world.patient_1_user.access_token, resumed, last_event_id=0)
    )
    await asyncio.sleep(1.0)
    reader.cancel()
    await asyncio.gather(reader, return_exceptions=True)

    created = [event for event in resumed if event.type == "message.created"]
    assert len(created) == 4  # the first message and three more
    assert [event.id for event in resumed] == sorted(event.id for event in resumed)
    later: list[ReceivedEvent] = []
    again = asyncio.create_task(
        read_events(
            events_server, world.patient_1_user.access_token, later, last_event_id=created[1].id
        )
    )
    await asyncio.sleep(1.0)
    again.cancel()
    await asyncio.gather(again, return_exceptions=True)
    assert [event.id for event in later if event.type == "message.created"] == [
        e.id for e in created[2:]
    ]


async def test_events_need_a_valid_token(events_server: str) -> None:
    async with httpx.AsyncClient(base_url=events_server) as client:
        response = await client.get("/api/v1/events")

    assert response.status_code == 401


async def test_reading_what_was_already_read_is_no_event(
    client: httpx.AsyncClient, thread: Thread, events_server: str
) -> None:
    world = thread.world
    heard: list[ReceivedEvent] = []
    reader = asyncio.create_task(read_events(events_server, world.clinician_a.access_token, heard))
    await asyncio.sleep(0.5)  # let the stream open

    for _ in range(3):
        await ok(await call(client, "POST", f"{thread.url}/read", world.patient_1_user, json={}))
    await asyncio.sleep(0.5)
    reader.cancel()
    await asyncio.gather(reader, return_exceptions=True)

    assert [event.type for event in heard if event.type == "message.read"] == ["message.read"]


async def test_a_stream_ends_soon_after_its_login_does_however_busy_the_server(
    client: httpx.AsyncClient,
    thread: Thread,
    events_server: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(streaming, "REAUTHORISE_SECONDS", 0.5)
    world = thread.world
    heard: list[ReceivedEvent] = []
    reader = asyncio.create_task(
        read_events(events_server, world.patient_1_user.access_token, heard)
    )
    await asyncio.sleep(0.3)  # let the stream open

    logout = await client.post("/api/v1/auth/logout", headers=world.patient_1_user.headers)
    # Never quiet for as long as the recheck interval: a message every 0.1 s.
    for number in range(20):
        if reader.done():
            break
        await send(client, thread, world.clinician_a, f"busy {number}")
        await asyncio.sleep(0.1)
    ended = reader.done()
    reader.cancel()
    await asyncio.gather(reader, return_exceptions=True)

    assert logout.status_code == 204
    assert ended, "the stream went on after its login had ended"


async def test_the_outbox_keeps_only_the_newest_events(
    client: httpx.AsyncClient,
    thread: Thread,
    events_server: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(events_service, "KEEP_EVENTS", 3)
    monkeypatch.setattr(events_service, "PRUNE_EVERY", 2)
    world = thread.world
    for number in range(6):
        await ok(await send(client, thread, world.clinician_a, f"message {number}"))

    kept = await _resumed(events_server, world.clinician_a.access_token, last_event_id=0)
    rest = await _resumed(events_server, world.clinician_a.access_token, last_event_id=kept[-1])
    ids = kept + rest

    assert ids[0] > 1, "the oldest events are still there"
    assert len(ids) in (3, 4)  # the newest three, and one more until the next pruning
    assert ids == list(range(ids[0], ids[0] + len(ids)))


async def _resumed(base_url: str, token: str, *, last_event_id: int) -> list[int]:
    heard: list[ReceivedEvent] = []
    reader = asyncio.create_task(read_events(base_url, token, heard, last_event_id=last_event_id))
    # Until the backlog has stopped coming (a loaded machine may take a while to start).
    deadline, quiet_since, count = asyncio.get_running_loop().time() + 10, None, -1
    while asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.1)
        now = asyncio.get_running_loop().time()
        if len(heard) != count:
            count, quiet_since = len(heard), now
        elif heard and quiet_since is not None and now - quiet_since >= 0.5:
            break
    reader.cancel()
    await asyncio.gather(reader, return_exceptions=True)
    return [event.id for event in heard]
