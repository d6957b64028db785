"""Sending: validation, amendments, idempotency, FHIR failures, the append-only rule."""

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from app.config import Settings
from app.db import create_engine, create_sessionmaker
from app.fhir.models import FhirResource
from app.main import create_app
from app.messaging.models import Message
from tests.support.app import running_client
from tests.support.auth import Account
from tests.support.conversations import Thread, send, start_conversation
from tests.support.world import World, call, ok


async def count(settings: Settings, model: type[Message] | type[FhirResource]) -> int:
    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            statement = select(func.count()).select_from(model)
            if model is FhirResource:
                statement = statement.where(FhirResource.resource_type == "Communication")
            return int(await session.scalar(statement) or 0)
    finally:
        await engine.dispose()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"text": ""}, "text"),
        ({"text": "   \n\t "}, "text"),
        ({"text": "x" * 10_001}, "text"),
        ({}, "text"),
        ({"text": "hi", "sender_id": 1}, "sender_id"),
        ({"text": "hi", "created_at": "2020-01-01T00:00:00Z"}, "created_at"),
    ],
)
async def test_bad_messages_are_422_and_write_nothing(
    client: httpx.AsyncClient,
    thread: Thread,
    settings: Settings,
    body: dict[str, object],
    field: str,
) -> None:
    messages, resources = await count(settings, Message), await count(settings, FhirResource)

    response = await call(
        client, "POST", f"{thread.url}/messages", thread.world.clinician_a, json=body
    )

    assert response.status_code == 422
    assert field in [error["loc"][-1] for error in response.json()["errors"]]
    assert await count(settings, Message) == messages
    assert await count(settings, FhirResource) == resources


async def test_the_longest_message_allowed_is_sent(
    client: httpx.AsyncClient, thread: Thread
) -> None:
    response = await send(client, thread, thread.world.clinician_a, "x" * 10_000)

    assert response.status_code == 201
    assert len(response.json()["text"]) == 10_000


async def test_unknown_or_unseen_targets_are_404(client: httpx.AsyncClient, world: World) -> None:
    unknown_patient = await call(
        client, "POST", "/api/v1/conversations", world.clinician_a,
        json={"patient_id": "nobody", "message": {"text": "hi"}},
    )  # fmt: skip
    unseen_patient = await call(
        client, "POST", "/api/v1/conversations", world.clinician_a,
        json={"patient_id": world.patient_2, "message": {"text": "hi"}},
    )  # fmt: skip
    unknown_conversation = await call(
        client,
        "POST",
        "/api/v1/conversations/999999/messages",
        world.clinician_a,
        json={"text": "hi"},
    )

    assert unknown_patient.status_code == 404
    assert unseen_patient.status_code == 404
    assert unseen_patient.json()["detail"] == unknown_patient.json()["detail"]
    assert unknown_conversation.status_code == 404


async def test_amendments_must_name_ones_own_message_in_the_same_conversation(
    client: httpx.AsyncClient, thread: Thread, settings: Settings
) -> None:
    world = thread.world
    first = (await ok(await call(client, "GET", f"{thread.url}/messages", world.clinician_a)))[
        "items"
    ][0]
    reply = await ok(await send(client, thread, world.patient_1_user, "A reply"))
    other = await start_conversation(client, world, world.clinician_a)
    other_first = (
        await ok(
            await call(
                client, "GET", f"/api/v1/conversations/{other['id']}/messages", world.clinician_a
            )
        )
    )["items"][0]
    messages = await count(settings, Message)

    elsewhere = await send(client, thread, world.clinician_a, "fix", amends_id=other_first["id"])
    missing = await send(client, thread, world.clinician_a, "fix", amends_id=999999)
    not_mine = await send(client, thread, world.clinician_a, "fix", amends_id=reply["id"])

    assert elsewhere.status_code == 422
    assert elsewhere.json()["errors"][0]["loc"] == ["body", "amends_id"]
    assert missing.status_code == 422
    assert not_mine.status_code == 403
    assert await count(settings, Message) == messages
    unchanged = (await ok(await call(client, "GET", f"{thread.url}/messages", world.clinician_a)))[
        "items"
    ][0]
    assert unchanged["text"] == first["text"]


async def test_the_same_idempotency_key_and_body_answer_the_same_once(
    client: httpx.AsyncClient, thread: Thread, settings: Settings
) -> None:
    sender = thread.world.clinician_a
    headers = sender.headers | {"Idempotency-Key": "send-42"}
    messages, resources = await count(settings, Message), await count(settings, FhirResource)

    first = await client.post(f"{thread.url}/messages", json={"text": "Once"}, headers=headers)
    again = await client.post(f"{thread.url}/messages", json={"text": "Once"}, headers=headers)
    changed = await client.post(f"{thread.url}/messages", json={"text": "Twice"}, headers=headers)

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert changed.status_code == 422
    assert changed.json()["errors"][0]["loc"] == ["header", "Idempotency-Key"]
    assert await count(settings, Message) == messages + 1
    assert await count(settings, FhirResource) == resources + 1


async def test_starting_a_conversation_is_idempotent_too(
    client: httpx.AsyncClient, world: World, settings: Settings
) -> None:
    headers = world.clinician_a.headers | {"Idempotency-Key": "start-7"}
    body = {"patient_id": world.patient_1, "message": {"text": "Hello"}}

    first = await client.post("/api/v1/conversations", json=body, headers=headers)
    again = await client.post("/api/v1/conversations", json=body, headers=headers)
    inbox = await ok(await call(client, "GET", "/api/v1/conversations", world.clinician_a))

    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert len(inbox["items"]) == 1
    assert await count(settings, FhirResource) == 2  # one header, one message


async def test_fhir_down_is_a_503_and_leaves_no_row(thread: Thread, settings: Settings) -> None:
    messages = await count(settings, Message)
    no_fhir = settings.model_copy(
        update={"fhir_url": "http://127.0.0.1:1/fhir", "fhir_connect_timeout_seconds": 0.5}
    )

    async with running_client(create_app(no_fhir)) as client:
        response = await send(client, thread, thread.world.clinician_a, "Is anyone there?")

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("fhir-unavailable")
    assert await count(settings, Message) == messages


async def test_a_closed_conversation_refuses_messages_until_reopened(
    client: httpx.AsyncClient, thread: Thread
) -> None:
    clinician, patient = thread.world.clinician_a, thread.world.patient_1_user

    patient_close = await call(client, "PATCH", thread.url, patient, json={"status": "closed"})
    closed = await call(client, "PATCH", thread.url, clinician, json={"status": "closed"})
    refused = await send(client, thread, patient, "Hello?")
    reopened = await call(client, "PATCH", thread.url, clinician, json={"status": "active"})
    accepted = await send(client, thread, patient, "Hello again")
    bad_status = await call(client, "PATCH", thread.url, clinician, json={"status": "new"})

    assert patient_close.status_code == 403
    assert closed.json()["status"] == "closed"
    assert closed.json()["can_write"] is False
    assert refused.status_code == 409
    assert reopened.json()["status"] == "active"
    assert accepted.status_code == 201
    assert bad_status.status_code == 422


async def test_status_goes_new_then_active_on_the_first_reply(
    client: httpx.AsyncClient, thread: Thread
) -> None:
    own_follow_up = await send(client, thread, thread.world.clinician_a, "And another thing")
    after_follow_up = await ok(await call(client, "GET", thread.url, thread.world.clinician_a))
    await send(client, thread, thread.world.patient_1_user, "A reply")
    after_reply = await ok(await call(client, "GET", thread.url, thread.world.clinician_a))

    assert own_follow_up.status_code == 201
    assert after_follow_up["status"] == "new"
    assert after_reply["status"] == "active"


async def test_patients_write_only_with_patient_messaging_on(
    client: httpx.AsyncClient, thread: Thread, admin: Account
) -> None:
    world = thread.world
    switch = f"/api/v1/organisations/{world.org_a}/features/patient_messaging"

    await ok(await call(client, "DELETE", switch, admin))
    refused = await send(client, thread, world.patient_1_user, "Can I write?")
    detail = await ok(await call(client, "GET", thread.url, world.patient_1_user))
    clinician_still = await send(client, thread, world.clinician_a, "Staff still can")
    await ok(await call(client, "PUT", switch, admin))
    allowed = await send(client, thread, world.patient_1_user, "Now I can")

    assert refused.status_code == 403
    assert refused.json()["type"].endswith("feature-disabled")
    assert detail["can_write"] is False
    assert clinician_still.status_code == 201
    assert allowed.status_code == 201


async def test_no_conversation_without_messaging_or_with_a_deactivated_patient(
    client: httpx.AsyncClient, world: World, admin: Account
) -> None:
    await ok(
        await call(
            client, "DELETE", f"/api/v1/organisations/{world.org_a}/features/messaging", admin
        )
    )
    no_feature = await call(
        client, "POST", "/api/v1/conversations", world.clinician_a,
        json={"patient_id": world.patient_1, "message": {"text": "hi"}},
    )  # fmt: skip
    await ok(
        await call(client, "PUT", f"/api/v1/organisations/{world.org_a}/features/messaging", admin)
    )
    await ok(await call(client, "POST", f"/api/v1/patients/{world.patient_1}/deactivate", admin))
    inactive = await call(
        client, "POST", "/api/v1/conversations", world.clinician_a,
        json={"patient_id": world.patient_1, "message": {"text": "hi"}},
    )  # fmt: skip

    assert no_feature.status_code == 403
    assert no_feature.json()["type"].endswith("feature-disabled")
    assert inactive.status_code == 409


async def test_the_database_refuses_to_rewrite_or_delete_a_message(
    thread: Thread, settings: Settings
) -> None:
    engine = create_engine(settings.database_url)
    try:
        for statement in (
            "UPDATE messages SET body = 'rewritten'",
            "UPDATE messages SET sender_id = sender_id",
            "UPDATE messages SET conversation_id = conversation_id",
            "DELETE FROM messages",
        ):
            with pytest.raises(DBAPIError, match="append-only"):
                async with engine.begin() as connection:
                    await connection.execute(text(statement))
        async with engine.begin() as connection:
            redacted = await connection.execute(
                text("UPDATE messages SET redaction_reason = 'wrong patient'")
            )
        assert redacted.rowcount == 1
    finally:
        await engine.dispose()


async def test_corrections_form_one_chain_and_only_the_latest_is_corrected(
    client: httpx.AsyncClient, thread: Thread
) -> None:
    clinician = thread.world.clinician_a
    original = await ok(await send(client, thread, clinician, "Take 10 mg"))
    first = await ok(await send(client, thread, clinician, "Take 20 mg", amends_id=original["id"]))

    fork = await send(client, thread, clinician, "Take 30 mg", amends_id=original["id"])
    second = await ok(await send(client, thread, clinician, "Take 25 mg", amends_id=first["id"]))
    page = await ok(await call(client, "GET", f"{thread.url}/messages", clinician))

    assert fork.status_code == 409
    assert fork.json()["latest_id"] == first["id"]
    chain = {item["id"]: item for item in page["items"]}
    assert chain[original["id"]]["amended_by_id"] == first["id"]
    assert chain[first["id"]]["amended_by_id"] == second["id"]
    assert chain[second["id"]]["amended_by_id"] is None
    texts = [item["text"] for item in page["items"]]
    assert "Take 30 mg" not in texts
    assert texts.index("Take 10 mg") < texts.index("Take 20 mg") < texts.index("Take 25 mg")
