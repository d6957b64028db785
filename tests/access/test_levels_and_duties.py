"""Permission levels bind everything at once, and nobody raises their own clinical access."""

import httpx

from tests.support.auth import Account
from tests.support.conversations import Thread, send
from tests.support.world import World, call, ok, staff_member


async def set_fields(
    client: httpx.AsyncClient, by: Account, user: Account, **fields: object
) -> httpx.Response:
    return await call(client, "PATCH", f"/api/v1/users/{user.id}", by, json=fields)


async def test_a_clinician_demoted_to_patient_reaches_nothing_clinical_on_the_next_request(
    client: httpx.AsyncClient, thread: Thread, admin: Account
) -> None:
    clinician = thread.world.clinician_a
    before = await call(client, "GET", f"{thread.url}/messages", clinician)

    await ok(await set_fields(client, admin, clinician, system_permissions="patient"))
    thread_page = await call(client, "GET", f"{thread.url}/messages", clinician)
    sent = await send(client, thread, clinician, "Still here?")
    inbox = await ok(await call(client, "GET", "/api/v1/conversations", clinician))
    patients = await ok(await call(client, "GET", "/api/v1/patients", clinician))

    assert before.status_code == 200
    assert thread_page.status_code == 404
    assert sent.status_code == 404
    assert inbox["items"] == []
    assert patients["items"] == []


async def test_a_patients_portal_login_cannot_become_staff(
    client: httpx.AsyncClient, world: World, admin: Account
) -> None:
    promoted = await set_fields(client, admin, world.patient_1_user, system_permissions="staff")
    me = await ok(await call(client, "GET", "/api/v1/auth/me", world.patient_1_user))

    assert promoted.status_code == 422
    assert me["system_permissions"] == "patient"
    assert me["fhir_patient_id"] == world.patient_1


async def test_an_admin_cannot_raise_its_own_clinical_access(
    client: httpx.AsyncClient, world: World, thread: Thread
) -> None:
    admin = world.admin
    attempts = {
        "competencies": await set_fields(
            client, admin, admin, additional_competencies=["view_patient_record"]
        ),
        "profession": await set_fields(client, admin, admin, base_profession="consultant"),
        "membership": await call(
            client, "PUT", f"/api/v1/organisations/{world.org_a}/staff/{admin.id}", admin,
            json={"is_primary": True},
        ),
        "grant": await call(
            client, "POST", f"/api/v1/patients/{world.patient_1}/access-grants", admin,
            json={"user_id": admin.id},
        ),
    }  # fmt: skip
    reading = await call(client, "GET", thread.url, admin)

    assert {name: r.status_code for name, r in attempts.items()} == dict.fromkeys(attempts, 403)
    assert all(r.json()["type"].endswith(":own-access") for r in attempts.values())
    assert reading.status_code == 404


async def test_another_admin_may_raise_it_and_the_change_is_audited(
    client: httpx.AsyncClient, world: World, admin: Account, thread: Thread
) -> None:
    second = world.admin
    changed = await set_fields(
        client, admin, second, base_profession="gp", additional_competencies=[]
    )
    joined = await call(
        client, "PUT", f"/api/v1/organisations/{world.org_a}/staff/{second.id}", admin,
        json={"is_primary": True},
    )  # fmt: skip
    reading = await call(client, "GET", thread.url, second)
    log = await ok(
        await call(client, "GET", f"/api/v1/audit?user_id={second.id}&outcome=allowed", admin)
    )

    assert changed.status_code == 200
    assert joined.status_code == 200
    assert reading.status_code == 200
    actions = {(row["action"], row["actor"]["id"]) for row in log["items"]}
    assert ("users.update", admin.id) in actions
    assert ("organisations.staff_put", admin.id) in actions


async def test_a_group_manager_cannot_add_themself_to_a_team_group(
    client: httpx.AsyncClient, world: World
) -> None:
    """Consultants may manage groups; joining one widens what they see, so another must."""
    body = {"name": "Diabetes team", "organisation_id": world.org_a, "member_ids": []}
    group = await ok(await call(client, "POST", "/api/v1/groups", world.clinician_a, json=body))
    with_self = {**body, "name": "Asthma team", "member_ids": [world.clinician_a.id]}

    joined = await call(
        client,
        "PUT",
        f"/api/v1/groups/{group['id']}/members/{world.clinician_a.id}",
        world.clinician_a,
    )
    created = await call(client, "POST", "/api/v1/groups", world.clinician_a, json=with_self)

    assert joined.status_code == created.status_code == 403
    assert joined.json()["type"].endswith("own-access")


async def test_leaving_an_organisation_leaves_its_team_groups(
    client: httpx.AsyncClient, thread: Thread, admin: Account
) -> None:
    world = thread.world
    member = await staff_member(client, admin, "team_member", world.org_a)
    body = {"name": "Nurses", "organisation_id": world.org_a, "member_ids": [member.id]}
    group = await ok(await call(client, "POST", "/api/v1/groups", admin, json=body))
    url = f"{thread.url}/participants"
    await ok(await call(client, "POST", url, world.clinician_a, json={"group_id": group["id"]}))
    # Also staff of B, which the patient joins: still someone who may care for them.
    await ok(
        await call(
            client, "PUT", f"/api/v1/organisations/{world.org_b}/staff/{member.id}", admin,
            json={"is_primary": False},
        )
    )  # fmt: skip
    await ok(
        await call(
            client, "PUT", f"/api/v1/organisations/{world.org_b}/patients/{world.patient_1}",
            admin, json={"is_primary": False},
        )
    )  # fmt: skip
    seen_before = await call(client, "GET", thread.url, member)

    await ok(
        await call(
            client, "DELETE", f"/api/v1/organisations/{world.org_a}/staff/{member.id}", admin
        )
    )
    group_after = await ok(await call(client, "GET", f"/api/v1/groups/{group['id']}", admin))
    seen_after = await call(client, "GET", thread.url, member)

    assert seen_before.status_code == 200
    assert group_after["members"] == []
    assert seen_after.status_code == 404


async def test_an_admin_on_an_organisations_staff_cannot_add_patients_to_its_care(
    client: httpx.AsyncClient, world: World, admin: Account
) -> None:
    """Adding an existing patient to an organisation puts them in the care of its staff."""
    clinical_admin = await staff_member(
        client, admin, "clinical_admin", world.org_a, system_permissions="admin"
    )
    url = f"/api/v1/organisations/{world.org_a}/patients/{world.patient_2}"

    own = await call(client, "PUT", url, clinical_admin, json={"is_primary": False})
    patient = await call(client, "GET", f"/api/v1/patients/{world.patient_2}", world.clinician_a)
    by_another = await call(client, "PUT", url, admin, json={"is_primary": False})

    assert own.status_code == 403
    assert own.json()["type"].endswith(":own-access")
    assert patient.status_code == 404
    assert by_another.status_code == 200


async def test_a_demoted_clinician_lists_no_organisations(
    client: httpx.AsyncClient, world: World, admin: Account
) -> None:
    await ok(await set_fields(client, admin, world.clinician_a, system_permissions="patient"))

    listed = await ok(await call(client, "GET", "/api/v1/organisations", world.clinician_a))
    one = await call(client, "GET", f"/api/v1/organisations/{world.org_a}", world.clinician_a)

    assert listed["items"] == []
    assert one.status_code == 404


async def test_a_patient_cannot_tell_which_groups_exist(
    client: httpx.AsyncClient, world: World, admin: Account
) -> None:
    body = {"name": "Front desk", "organisation_id": world.org_a, "member_ids": []}
    group = await ok(await call(client, "POST", "/api/v1/groups", admin, json=body))

    of_their_practice = await call(
        client, "GET", f"/api/v1/groups/{group['id']}", world.patient_1_user
    )
    missing = await call(client, "GET", "/api/v1/groups/999999", world.patient_1_user)

    assert of_their_practice.status_code == missing.status_code == 404
    assert of_their_practice.json()["detail"] == missing.json()["detail"]
