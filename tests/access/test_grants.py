"""External access grants mean their level, end when they should, and tell nobody anything
about accounts they are not given to."""

import asyncio
from datetime import UTC, datetime, timedelta

import httpx

from tests.access.matrix_world import grant
from tests.support.auth import Account
from tests.support.conversations import Thread, start_conversation
from tests.support.world import World, call, ok, staff_member


async def test_a_read_grant_never_writes_starts_closes_joins_or_adds(
    client: httpx.AsyncClient, thread: Thread, admin: Account
) -> None:
    world = thread.world
    reader = await staff_member(client, admin, "second_opinion", None)
    await grant(client, admin, world.patient_1, reader, "read")
    colleague = await staff_member(client, admin, "colleague", world.org_a)

    read = await call(client, "GET", thread.url, reader)
    attempts = {
        "write": await call(client, "POST", f"{thread.url}/messages", reader, json={"text": "x"}),
        "start": await call(
            client, "POST", "/api/v1/conversations", reader,
            json={"patient_id": world.patient_1, "message": {"text": "x"}},
        ),
        "close": await call(client, "PATCH", thread.url, reader, json={"status": "closed"}),
        "join": await call(client, "POST", f"{thread.url}/join", reader),
        "add": await call(
            client, "POST", f"{thread.url}/participants", reader, json={"user_id": colleague.id}
        ),
    }  # fmt: skip
    after = await ok(await call(client, "GET", thread.url, world.clinician_a))

    assert read.status_code == 200
    assert {name: response.status_code for name, response in attempts.items()} == dict.fromkeys(
        attempts, 403
    )
    assert after["status"] != "closed"
    assert [p["id"] for p in after["participants"]] == [
        world.clinician_a.id,
        world.patient_1_user.id,
    ]


async def test_a_grant_reaches_only_what_the_patient_could_see(
    client: httpx.AsyncClient, world: World
) -> None:
    with_patient = await start_conversation(client, world, world.clinician_a, include_patient=True)
    clinicians_only = await start_conversation(client, world, world.clinician_a)
    grantee = world.external_granted  # a `message` grant

    seen = await call(client, "GET", f"/api/v1/conversations/{with_patient['id']}", grantee)
    unseen = await call(client, "GET", f"/api/v1/conversations/{clinicians_only['id']}", grantee)
    inbox = await ok(await call(client, "GET", "/api/v1/conversations", grantee))

    assert seen.status_code == 200
    assert unseen.status_code == 404
    assert [item["id"] for item in inbox["items"]] == [with_patient["id"]]


async def test_the_patient_revokes_a_grant_on_their_record(
    client: httpx.AsyncClient, world: World
) -> None:
    url = f"/api/v1/patients/{world.patient_1}"
    grantee = world.external_granted

    revoked = await call(
        client, "DELETE", f"{url}/access-grants/{grantee.id}", world.patient_1_user
    )
    after = await call(client, "GET", url, grantee)
    other_patient = await call(
        client, "DELETE", f"{url}/access-grants/{grantee.id}", world.patient_2_user
    )

    assert revoked.status_code == 204
    assert after.status_code == 404
    assert other_patient.status_code == 404


async def test_an_expired_grant_stops_working_and_a_past_expiry_is_refused(
    client: httpx.AsyncClient, world: World, admin: Account
) -> None:
    url = f"/api/v1/patients/{world.patient_1}/access-grants"
    soon = datetime.now(UTC) + timedelta(seconds=1)
    short = await staff_member(client, admin, "short_term", None)
    granted = await ok(
        await call(
            client, "POST", url, admin, json={"user_id": short.id, "expires_at": soon.isoformat()}
        )
    )
    during = await call(client, "GET", f"/api/v1/patients/{world.patient_1}", short)
    await asyncio.sleep((soon - datetime.now(UTC)).total_seconds() + 0.1)
    after = await call(client, "GET", f"/api/v1/patients/{world.patient_1}", short)
    past = await call(
        client, "POST", url, admin,
        json={"user_id": world.external_none.id, "expires_at": "2020-01-01T00:00:00Z"},
    )  # fmt: skip
    renewed = await call(client, "POST", url, admin, json={"user_id": short.id})

    assert granted["expires_at"] is not None
    assert during.status_code == 200
    assert after.status_code == 404
    assert past.status_code == 422
    assert renewed.status_code == 201


async def test_a_grant_to_anyone_but_a_staff_member_gets_one_answer(
    client: httpx.AsyncClient, world: World, admin: Account
) -> None:
    """A patient cannot tell a missing account from a patient, an admin or the superadmin."""
    url = f"/api/v1/patients/{world.patient_1}/access-grants"
    deactivated = await staff_member(client, admin, "gone", None)
    await ok(await call(client, "POST", f"/api/v1/users/{deactivated.id}/deactivate", admin))
    candidates = {
        "missing": 999_999,
        "patient": world.patient_2_user.id,
        "admin": world.admin.id,
        "superadmin": admin.id,
        "deactivated": deactivated.id,
    }

    answers = {
        name: await call(client, "POST", url, world.patient_1_user, json={"user_id": user_id})
        for name, user_id in candidates.items()
    }

    assert {response.status_code for response in answers.values()} == {422}
    assert len({response.json()["detail"] for response in answers.values()}) == 1


async def test_an_unseen_patient_answers_404_with_no_details(
    client: httpx.AsyncClient, world: World
) -> None:
    unseen = await call(client, "GET", f"/api/v1/patients/{world.patient_1}", world.clinician_b)
    missing = await call(client, "GET", "/api/v1/patients/does-not-exist", world.clinician_b)

    assert unseen.status_code == missing.status_code == 404
    assert unseen.json()["detail"] == missing.json()["detail"]
    assert world.patient_1 not in unseen.text


async def test_a_revoked_grant_stops_working_on_the_next_request(
    client: httpx.AsyncClient, world: World, admin: Account
) -> None:
    url = f"/api/v1/patients/{world.patient_1}"
    before = await call(client, "GET", url, world.external_granted)

    revoked = await call(
        client, "DELETE", f"{url}/access-grants/{world.external_granted.id}", admin
    )
    after = await call(client, "GET", url, world.external_granted)
    again = await call(client, "DELETE", f"{url}/access-grants/{world.external_granted.id}", admin)

    assert before.status_code == 200
    assert revoked.status_code == 204
    assert after.status_code == 404
    assert again.status_code == 404
