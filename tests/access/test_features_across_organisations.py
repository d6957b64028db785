"""A conversation of two organisations: a feature set counts only where it is on together."""

import httpx

from tests.support.auth import Account
from tests.support.media import png
from tests.support.world import World, call, ok


async def switch(
    client: httpx.AsyncClient, admin: Account, organisation_id: int, key: str, *, on: bool
) -> None:
    url = f"/api/v1/organisations/{organisation_id}/features/{key}"
    await ok(await call(client, "PUT" if on else "DELETE", url, admin))


async def test_two_organisations_cannot_make_up_a_feature_set_between_them(
    client: httpx.AsyncClient, world: World, admin: Account
) -> None:
    # P1 in A and B; A: messaging only; B: patient messaging and attachments, no messaging.
    url = f"/api/v1/organisations/{world.org_b}/patients/{world.patient_1}"
    await ok(await call(client, "PUT", url, admin, json={"is_primary": False}))
    body = {
        "patient_id": world.patient_1, "include_patient": True,
        "participant_ids": [world.clinician_b.id], "message": {"text": "Results"},
    }  # fmt: skip
    started = await ok(
        await call(client, "POST", "/api/v1/conversations", world.clinician_a, json=body)
    )
    await switch(client, admin, world.org_a, "patient_messaging", on=False)
    await switch(client, admin, world.org_a, "attachments", on=False)
    await switch(client, admin, world.org_b, "messaging", on=False)
    thread = f"/api/v1/conversations/{started['id']}"

    patient_writes = await call(
        client, "POST", f"{thread}/messages", world.patient_1_user, json={"text": "Thanks"}
    )
    image = await call(
        client, "POST", f"{thread}/messages", world.clinician_a,
        files={"file": ("x.png", png(), "image/png")},
    )  # fmt: skip
    clinician_writes = await call(
        client, "POST", f"{thread}/messages", world.clinician_a, json={"text": "Noted"}
    )
    detail = await ok(await call(client, "GET", thread, world.patient_1_user))

    assert sorted(started["organisation_ids"]) == sorted([world.org_a, world.org_b])
    assert patient_writes.status_code == image.status_code == 403
    assert patient_writes.json()["type"].endswith("feature-disabled")
    assert image.json()["type"].endswith("feature-disabled")
    assert clinician_writes.status_code == 201
    assert detail["can_write"] is False


async def test_a_grant_reaches_a_conversation_the_patient_started(
    client: httpx.AsyncClient, world: World
) -> None:
    body = {"patient_id": world.patient_1, "message": {"text": "A question"}}
    started = await ok(
        await call(client, "POST", "/api/v1/conversations", world.patient_1_user, json=body)
    )

    seen = await call(
        client, "GET", f"/api/v1/conversations/{started['id']}", world.external_granted
    )

    assert seen.status_code == 200


async def test_refusals_made_by_data_rules_are_audited_too(
    client: httpx.AsyncClient, world: World, admin: Account
) -> None:
    body = {"patient_id": world.patient_1, "include_patient": True, "message": {"text": "Hi"}}
    started = await ok(
        await call(client, "POST", "/api/v1/conversations", world.clinician_a, json=body)
    )
    first = started["last_message"]["id"]
    url = f"/api/v1/conversations/{started['id']}/messages"
    amend = await call(
        client, "POST", url, world.patient_1_user, json={"text": "Changed", "amends_id": first}
    )
    above = await call(
        client, "PATCH", f"/api/v1/users/{admin.id}", world.admin, json={"full_name": "Root"}
    )

    denied = await ok(
        await call(client, "GET", "/api/v1/audit", admin, params={"outcome": "denied"})
    )

    assert amend.status_code == above.status_code == 403
    refused = {(row["actor"]["id"], row["action"]) for row in denied["items"]}
    assert (world.patient_1_user.id, "conversation.write") in refused
    assert (world.admin.id, "user.manage") in refused
