"""Every look at patient data and every refusal leaves an audit row, with names beside ids."""

from typing import Any

import httpx

from tests.support.auth import Account
from tests.support.conversations import Thread, send
from tests.support.media import png
from tests.support.world import call, ok


async def audit_rows(client: httpx.AsyncClient, admin: Account, **filters: Any) -> list[Any]:
    page = await ok(
        await call(client, "GET", "/api/v1/audit", admin, params={"limit": 200, **filters})
    )
    rows: list[Any] = page["items"]
    return rows


async def test_refused_attempts_on_another_patients_data_are_audited(
    client: httpx.AsyncClient, thread: Thread, admin: Account
) -> None:
    world = thread.world
    outsider = world.clinician_b
    unseen = await call(client, "GET", thread.url, outsider)
    thread_page = await call(client, "GET", f"{thread.url}/messages", outsider)
    patient = await call(client, "GET", f"/api/v1/patients/{world.patient_1}", outsider)
    not_taking_part = await send(client, thread, world.nurse_a, "Let me in")

    denied = await audit_rows(client, admin, outcome="denied", user_id=outsider.id)
    refused_write = await audit_rows(
        client, admin, outcome="denied", action="conversation.write", user_id=world.nurse_a.id
    )

    assert (unseen.status_code, thread_page.status_code, patient.status_code) == (404, 404, 404)
    assert not_taking_part.status_code == 403
    assert [(row["action"], row["reason"]) for row in denied] == [
        ("patient.read", "not-found"),
        ("conversation.read", "not-found"),
        ("conversation.read", "not-found"),
    ]
    assert {row["patient"]["id"] for row in denied} == {world.patient_1}
    assert all(row["patient"]["name"] == "Pat Alpha" for row in denied)
    assert all(row["actor"] == {"id": outsider.id, "name": "Clinician B"} for row in denied)
    assert all(row["client_address"] for row in denied)
    assert len(refused_write) == 1
    assert refused_write[0]["reason"] == "forbidden"
    assert refused_write[0]["conversation_id"] == thread.id


async def test_every_look_at_patient_data_is_audited(
    client: httpx.AsyncClient, thread: Thread, admin: Account
) -> None:
    world = thread.world
    reader = world.clinician_a
    files = {"file": ("rash.png", png(), "image/png")}
    image = await ok(
        await call(client, "POST", f"{thread.url}/messages", world.patient_1_user, files=files)
    )
    await ok(await call(client, "GET", "/api/v1/conversations", reader))
    await ok(await call(client, "GET", thread.url, reader))
    await ok(await call(client, "GET", f"{thread.url}/messages", reader))
    await ok(await call(client, "GET", f"/api/v1/patients/{world.patient_1}", reader))
    await ok(await call(client, "GET", "/api/v1/patients", reader))
    download = await call(client, "GET", f"/api/v1/attachments/{image['id']}", reader)

    rows = await audit_rows(client, admin, user_id=reader.id, patient_id=world.patient_1)
    looks = {row["action"]: row for row in rows if row["outcome"] == "allowed"}

    assert download.status_code == 200
    assert {
        "conversations.list",
        "conversations.read",
        "messages.read_thread",
        "patients.read",
        "patients.list",
        "attachments.read",
    } <= set(looks)
    assert looks["conversations.list"]["details"]["conversation_ids"] == [thread.id]
    assert looks["conversations.read"]["conversation_id"] == thread.id


async def test_the_log_filters_by_action_and_outcome(
    client: httpx.AsyncClient, thread: Thread, admin: Account
) -> None:
    world = thread.world
    await call(client, "GET", thread.url, world.clinician_b)
    await ok(await call(client, "GET", thread.url, world.clinician_a))

    reads = await audit_rows(client, admin, action="conversations.read")
    denied = await audit_rows(client, admin, outcome="denied")
    allowed = await audit_rows(client, admin, outcome="allowed")
    wrong = await call(client, "GET", "/api/v1/audit", admin, params={"outcome": "maybe"})

    assert {row["action"] for row in reads} == {"conversations.read"}
    assert {row["outcome"] for row in denied} == {"denied"}
    assert {row["outcome"] for row in allowed} == {"allowed"}
    assert wrong.status_code == 422
