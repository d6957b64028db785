"""The inbox, threads, receipts, participants and joining."""

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from fastapi import FastAPI
from sqlalchemy import event, select

from app.audit.models import AuditEvent
from app.config import Settings
from app.db import create_engine, create_sessionmaker
from tests.support.auth import Account
from tests.support.conversations import Thread, send, start_conversation
from tests.support.world import World, call, ok, staff_member


@contextmanager
def counting_queries(app: FastAPI) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        # The live-events dispatcher polls the outbox in the background: not the request's.
        if "FROM events" not in statement:
            statements.append(statement)

    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def test_the_inbox_costs_the_same_queries_whatever_the_page_or_threads(
    app: FastAPI, client: httpx.AsyncClient, world: World
) -> None:
    for number in range(6):
        started = await start_conversation(client, world, world.clinician_a, include_patient=True)
        for reply in range(number * 3):
            await call(
                client, "POST", f"/api/v1/conversations/{started['id']}/messages",
                world.patient_1_user, json={"text": f"reply {reply}"},
            )  # fmt: skip

    with counting_queries(app) as one:
        small = await ok(
            await call(client, "GET", "/api/v1/conversations?limit=1", world.clinician_a)
        )
    with counting_queries(app) as many:
        large = await ok(
            await call(client, "GET", "/api/v1/conversations?limit=50", world.clinician_a)
        )

    assert len(small["items"]) == 1
    assert len(large["items"]) == 6
    assert len(one) == len(many)
    assert len(many) <= 6
    assert [item["unread_count"] for item in large["items"]] == [15, 12, 9, 6, 3, 0]


async def test_every_send_moves_its_conversation_to_the_top(
    client: httpx.AsyncClient, world: World
) -> None:
    older = await start_conversation(client, world, world.clinician_a, subject="older")
    await start_conversation(client, world, world.clinician_a, subject="newer")

    await call(
        client, "POST", f"/api/v1/conversations/{older['id']}/messages", world.clinician_a,
        json={"text": "bump"},
    )  # fmt: skip
    inbox = await ok(await call(client, "GET", "/api/v1/conversations", world.clinician_a))

    assert [item["subject"] for item in inbox["items"]] == ["older", "newer"]
    assert inbox["items"][0]["last_message"]["preview"] == "bump"


async def test_the_inbox_filters_and_pages(client: httpx.AsyncClient, world: World) -> None:
    for subject in ("one", "two", "three"):
        await start_conversation(client, world, world.clinician_a, subject=subject)
    await start_conversation(client, world, world.clinician_b, patient_id=world.patient_2)
    first = await ok(await call(client, "GET", "/api/v1/conversations?limit=2", world.clinician_a))
    second = await ok(
        await call(
            client, "GET", "/api/v1/conversations", world.clinician_a,
            params={"limit": 2, "cursor": first["next_cursor"]},
        )
    )  # fmt: skip
    closed = await ok(
        await call(client, "GET", "/api/v1/conversations?status=closed", world.clinician_a)
    )
    by_patient = await ok(
        await call(
            client,
            "GET",
            "/api/v1/conversations",
            world.clinician_a,
            params={"patient_id": world.patient_2},
        )
    )
    bad_status = await call(client, "GET", "/api/v1/conversations?status=lost", world.clinician_a)

    assert [item["subject"] for item in first["items"] + second["items"]] == ["three", "two", "one"]
    assert second["next_cursor"] is None
    assert closed["items"] == []
    assert by_patient["items"] == []
    assert bad_status.status_code == 422


async def test_thread_pages_are_stable_while_messages_arrive(
    client: httpx.AsyncClient, thread: Thread
) -> None:
    for number in range(1, 6):
        await send(client, thread, thread.world.clinician_a, f"m{number}")

    newest = await ok(
        await call(client, "GET", f"{thread.url}/messages?limit=3", thread.world.clinician_a)
    )
    await send(client, thread, thread.world.patient_1_user, "arrives meanwhile")
    older = await ok(
        await call(
            client, "GET", f"{thread.url}/messages", thread.world.clinician_a,
            params={"limit": 3, "before": newest["next_cursor"]},
        )
    )  # fmt: skip

    assert [m["text"] for m in newest["items"]] == ["m3", "m4", "m5"]
    assert [m["text"] for m in older["items"]] == ["Hello", "m1", "m2"]
    assert older["next_cursor"] is None


async def test_receipts_show_delivery_then_reading(
    client: httpx.AsyncClient, thread: Thread
) -> None:
    clinician, patient = thread.world.clinician_a, thread.world.patient_1_user
    sent = await ok(await send(client, thread, clinician, "Please book a blood test"))

    before = await ok(await call(client, "GET", f"{thread.url}/messages", clinician))
    await call(client, "GET", f"{thread.url}/messages", patient)
    delivered = await ok(await call(client, "GET", f"{thread.url}/messages", clinician))
    read = await ok(
        await call(
            client, "POST", f"{thread.url}/read", patient, json={"up_to_message_id": sent["id"]}
        )
    )
    after = await ok(await call(client, "GET", f"{thread.url}/messages", clinician))
    bad = await call(
        client, "POST", f"{thread.url}/read", patient, json={"up_to_message_id": 999999}
    )

    def receipt(page: dict[str, list[dict[str, object]]]) -> tuple[object, object]:
        message = next(item for item in page["items"] if item["id"] == sent["id"])
        return message["delivered_to"], message["read_by"]

    assert receipt(before) == ([], [])
    assert receipt(delivered) == ([patient.id], [])
    assert read == {"conversation_id": thread.id, "unread_count": 0}
    assert receipt(after) == ([patient.id], [patient.id])
    assert bad.status_code == 422


async def test_staff_of_the_organisation_read_then_join_to_write(
    client: httpx.AsyncClient, thread: Thread, admin: Account
) -> None:
    world = thread.world
    colleague = await staff_member(client, admin, "colleague", world.org_a)

    seen = await ok(await call(client, "GET", thread.url, colleague))
    before_join = await send(client, thread, colleague, "May I?")
    joined = await ok(await call(client, "POST", f"{thread.url}/join", colleague))
    after_join = await send(client, thread, colleague, "Now I may")
    outsider = await call(client, "POST", f"{thread.url}/join", world.clinician_b)
    patient_join = await call(client, "POST", f"{thread.url}/join", world.patient_1_user)

    assert seen["is_participant"] is False
    assert seen["can_write"] is False
    assert before_join.status_code == 403
    assert joined["is_participant"] is True
    assert colleague.id in [p["id"] for p in joined["participants"]]
    assert after_join.status_code == 201
    assert outsider.status_code == 404
    assert patient_join.status_code == 403


async def test_only_someone_who_may_see_the_patient_can_be_added(
    client: httpx.AsyncClient, thread: Thread
) -> None:
    world = thread.world
    url = f"{thread.url}/participants"

    stranger = await call(
        client, "POST", url, world.clinician_a, json={"user_id": world.clinician_b.id}
    )
    other_patient = await call(
        client, "POST", url, world.clinician_a, json={"user_id": world.patient_2_user.id}
    )
    both = await call(client, "POST", url, world.clinician_a, json={"user_id": 1, "group_id": 1})
    granted = await ok(
        await call(
            client, "POST", url, world.clinician_a, json={"user_id": world.external_granted.id}
        )
    )
    by_patient = await call(
        client, "POST", url, world.patient_1_user, json={"user_id": world.nurse_a.id}
    )

    assert stranger.status_code == 422
    assert other_patient.status_code == 422
    assert both.status_code == 422
    assert world.org_b not in granted["organisation_ids"]
    assert world.external_granted.id in [p["id"] for p in granted["participants"]]
    assert by_patient.status_code == 403
    stranger_view = await call(client, "GET", thread.url, world.clinician_b)
    assert stranger_view.status_code == 404


async def test_reading_and_sending_are_audited(
    client: httpx.AsyncClient, thread: Thread, settings: Settings
) -> None:
    await call(client, "GET", f"{thread.url}/messages", thread.world.patient_1_user)
    await send(client, thread, thread.world.patient_1_user, "A private worry")

    engine = create_engine(settings.database_url)
    async with create_sessionmaker(engine)() as session:
        rows = list(
            await session.scalars(select(AuditEvent).where(AuditEvent.conversation_id == thread.id))
        )
    await engine.dispose()

    actions = [(row.action, row.actor_id, row.patient_id) for row in rows]
    assert (
        "messages.read_thread",
        thread.world.patient_1_user.id,
        thread.world.patient_1,
    ) in actions
    assert ("messages.send", thread.world.patient_1_user.id, thread.world.patient_1) in actions
    assert "A private worry" not in str([row.details for row in rows])
