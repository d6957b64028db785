"""The heart of Parley, end to end through HTTP, on the embedded store and on HAPI."""

import httpx
import pytest

from tests.support.auth import Account
from tests.support.world import World, build_world, call, ok, staff_member


async def start(
    client: httpx.AsyncClient, world: World, creator: Account, **fields: object
) -> dict:  # type: ignore[type-arg]
    body = {"patient_id": world.patient_1, "subject": "Blood results", "message": {"text": "Hello"}}
    response = await call(client, "POST", "/api/v1/conversations", creator, json=body | fields)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


@pytest.mark.usefixtures("fhir_url")
async def test_a_conversation_from_start_to_amendment(
    client: httpx.AsyncClient, admin: Account
) -> None:
    world = await build_world(client, admin)
    nurse = await staff_member(client, admin, "nurse_joy", world.org_a, base_profession="nurse")
    clinician, patient = world.clinician_a, world.patient_1_user

    conversation = await start(
        client, world, clinician, participant_ids=[nurse.id], include_patient=True,
        message={"text": "Your potassium is 5 mmol/L."},
    )  # fmt: skip
    base = f"/api/v1/conversations/{conversation['id']}"
    assert conversation["status"] == "new"
    assert {(p["id"], p["role"]) for p in conversation["participants"]} == {
        (clinician.id, "initiator"), (nurse.id, "member"), (patient.id, "patient"),
    }  # fmt: skip

    nurse_inbox = await ok(await call(client, "GET", "/api/v1/conversations", nurse))
    assert nurse_inbox["items"][0]["unread_count"] == 1
    first_page = await ok(await call(client, "GET", f"{base}/messages", nurse))
    first_id = first_page["items"][0]["id"]
    await ok(await call(client, "POST", f"{base}/read", nurse, json={}))
    assert (await ok(await call(client, "GET", "/api/v1/conversations", nurse)))["items"][0][
        "unread_count"
    ] == 0

    reply = await ok(
        await call(client, "POST", f"{base}/messages", patient, json={"text": "Is that bad?"})
    )
    amendment = await ok(
        await call(
            client, "POST", f"{base}/messages", clinician,
            json={"text": "Correction: 5.0 mmol/L, which is normal.", "amends_id": first_id},
        )
    )  # fmt: skip
    thread = await ok(await call(client, "GET", f"{base}/messages", clinician))
    detail = await ok(await call(client, "GET", base, clinician))

    texts = [message["text"] for message in thread["items"]]
    assert texts == [
        "Your potassium is 5 mmol/L.", "Is that bad?", "Correction: 5.0 mmol/L, which is normal.",
    ]  # fmt: skip
    original = thread["items"][0]
    assert original["amended_by_id"] == amendment["id"]
    assert thread["items"][2]["amends_id"] == first_id
    assert original["read_by"] == [nurse.id]
    assert set(original["delivered_to"]) >= {nurse.id}
    assert reply["sender"]["id"] == patient.id
    assert detail["status"] == "active"
    assert detail["last_message"]["id"] == amendment["id"]

    outsider = world.clinician_b
    attempts: list[tuple[str, str, dict[str, object] | None]] = [
        ("GET", base, None),
        ("GET", f"{base}/messages", None),
        ("POST", f"{base}/read", {}),
        ("POST", f"{base}/messages", {"text": "let me in"}),
        ("POST", f"{base}/join", None),
        ("PATCH", base, {"status": "closed"}),
        ("POST", f"{base}/participants", {"user_id": outsider.id}),
    ]
    for method, path, body in attempts:
        response = await call(client, method, path, outsider, json=body)
        assert response.status_code == 404, (method, path, response.text)
    outsider_inbox = await ok(await call(client, "GET", "/api/v1/conversations", outsider))
    assert outsider_inbox["items"] == []
