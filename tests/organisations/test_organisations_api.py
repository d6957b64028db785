"""Organisations, membership and feature flags through the HTTP API."""

import httpx

from tests.support.auth import Account, create_user, login
from tests.support.world import add_staff, call, create_organisation, create_patient, ok


async def test_an_organisation_is_created_read_updated_and_listed(
    client: httpx.AsyncClient, admin: Account
) -> None:
    created = await call(
        client, "POST", "/api/v1/organisations", admin,
        json={"name": "  Northgate Hospital ", "type": "hospital"},
    )  # fmt: skip
    organisation_id = created.json()["id"]
    updated = await call(
        client, "PATCH", f"/api/v1/organisations/{organisation_id}", admin,
        json={"location": "Northgate"},
    )  # fmt: skip
    listed = await call(client, "GET", "/api/v1/organisations", admin)

    assert created.status_code == 201
    assert created.json()["name"] == "Northgate Hospital"
    assert updated.json()["location"] == "Northgate"
    assert updated.json()["name"] == "Northgate Hospital"
    assert [item["id"] for item in listed.json()["items"]] == [organisation_id]


async def test_bad_organisation_input_is_a_422_naming_the_field(
    client: httpx.AsyncClient, admin: Account
) -> None:
    empty_name = await call(
        client, "POST", "/api/v1/organisations", admin, json={"name": " ", "type": "clinic"}
    )
    bad_type = await call(
        client, "POST", "/api/v1/organisations", admin, json={"name": "X", "type": "Not A Slug"}
    )
    organisation_id = await create_organisation(client, admin, "Kept")
    null_name = await call(
        client, "PATCH", f"/api/v1/organisations/{organisation_id}", admin, json={"name": None}
    )

    assert empty_name.status_code == 422
    assert empty_name.json()["errors"][0]["loc"] == ["body", "name"]
    assert bad_type.json()["errors"][0]["loc"] == ["body", "type"]
    assert null_name.status_code == 422
    assert (await call(client, "GET", "/api/v1/organisations", admin)).json()["items"][0][
        "name"
    ] == "Kept"


async def test_staff_see_only_their_own_organisations(
    client: httpx.AsyncClient, admin: Account
) -> None:
    mine = await create_organisation(client, admin, "Mine")
    await create_organisation(client, admin, "Not mine")
    user = await create_user(client, admin, "member")
    await add_staff(client, admin, mine, user)
    await login(client, user)

    listed = await call(client, "GET", "/api/v1/organisations", user)

    assert [item["name"] for item in listed.json()["items"]] == ["Mine"]


async def test_features_switch_on_and_off_and_record_who_and_when(
    client: httpx.AsyncClient, admin: Account
) -> None:
    organisation_id = await create_organisation(client, admin, "Flags")
    url = f"/api/v1/organisations/{organisation_id}/features"

    first = await call(client, "PUT", f"{url}/messaging", admin)
    repeated = await call(client, "PUT", f"{url}/messaging", admin)
    unknown = await call(client, "PUT", f"{url}/teleportation", admin)
    on = await call(client, "GET", url, admin)
    off = await call(client, "DELETE", f"{url}/messaging", admin)
    after = await call(client, "GET", url, admin)

    assert first.status_code == 200
    assert first.json()["enabled_by_id"] == admin.id
    assert first.json()["enabled_by_name"] == "Root"
    assert repeated.json()["enabled_at"] == first.json()["enabled_at"]
    assert unknown.status_code == 422
    assert [feature["key"] for feature in on.json()] == ["messaging"]
    assert off.status_code == 204
    assert after.json() == []


async def test_a_member_with_the_competency_may_switch_features(
    client: httpx.AsyncClient, admin: Account
) -> None:
    organisation_id = await create_organisation(client, admin, "Self-run")
    manager = await create_user(client, admin, "practice_manager", base_profession="admin_staff")
    await add_staff(client, admin, organisation_id, manager)
    await login(client, manager)

    response = await call(
        client, "PUT", f"/api/v1/organisations/{organisation_id}/features/attachments", manager
    )

    assert response.status_code == 200


async def test_one_primary_organisation_per_staff_member(
    client: httpx.AsyncClient, admin: Account
) -> None:
    first = await create_organisation(client, admin, "First")
    second = await create_organisation(client, admin, "Second")
    user = await create_user(client, admin, "moving")
    await add_staff(client, admin, first, user)
    await add_staff(client, admin, second, user)
    await login(client, user)

    me = (await call(client, "GET", "/api/v1/auth/me", user)).json()

    assert [(o["name"], o["is_primary"]) for o in me["organisations"]] == [
        ("Second", True),
        ("First", False),
    ]


async def test_membership_rules(client: httpx.AsyncClient, admin: Account) -> None:
    organisation_id = await create_organisation(client, admin, "Members")
    staff_url = f"/api/v1/organisations/{organisation_id}/staff"

    unknown_user = await call(client, "PUT", f"{staff_url}/9999", admin, json={})
    not_member = await call(client, "DELETE", f"{staff_url}/{admin.id}", admin)
    unknown_patient = await call(
        client, "PUT", f"/api/v1/organisations/{organisation_id}/patients/nope", admin, json={}
    )

    assert unknown_user.status_code == 404
    assert not_member.status_code == 404
    assert unknown_patient.status_code == 404


async def test_an_organisation_with_patients_cannot_be_deleted(
    client: httpx.AsyncClient, admin: Account
) -> None:
    busy = await create_organisation(client, admin, "Busy")
    idle = await create_organisation(client, admin, "Idle")
    await create_patient(client, admin, busy, "Patient")

    refused = await call(client, "DELETE", f"/api/v1/organisations/{busy}", admin)
    deleted = await call(client, "DELETE", f"/api/v1/organisations/{idle}", admin)
    gone = await call(client, "GET", f"/api/v1/organisations/{idle}", admin)

    assert refused.status_code == 409
    assert deleted.status_code == 204
    assert gone.status_code == 404
    assert (await ok(await call(client, "GET", f"/api/v1/organisations/{busy}", admin)))[
        "name"
    ] == "Busy"
