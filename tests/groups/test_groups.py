"""Team groups: managed within one organisation, and taking part in conversations as one."""

import httpx

from tests.support.auth import Account
from tests.support.conversations import Thread
from tests.support.world import World, call, create_organisation, ok, staff_member


async def create_group(
    client: httpx.AsyncClient, actor: Account, organisation_id: int, member_ids: list[int]
) -> httpx.Response:
    body = {"name": "Renal team", "organisation_id": organisation_id, "member_ids": member_ids}
    return await call(client, "POST", "/api/v1/groups", actor, json=body)


async def test_groups_are_made_by_admins_or_staff_who_manage_groups(
    client: httpx.AsyncClient, world: World, admin: Account
) -> None:
    lead = await staff_member(client, admin, "team_lead", world.org_a, base_profession="consultant")
    by_lead = await create_group(client, lead, world.org_a, [world.nurse_a.id])
    by_nurse = await call(
        client, "POST", "/api/v1/groups", world.nurse_a,
        json={"name": "Other", "organisation_id": world.org_a, "member_ids": []},
    )  # fmt: skip
    in_other_org = await create_group(client, lead, world.org_b, [])
    with_stranger = await call(
        client, "POST", "/api/v1/groups", admin,
        json={"name": "Mixed", "organisation_id": world.org_a,
              "member_ids": [world.clinician_b.id]},
    )  # fmt: skip
    duplicate = await create_group(client, admin, world.org_a, [])

    assert by_lead.status_code == 201
    assert [m["id"] for m in by_lead.json()["members"]] == [world.nurse_a.id]
    assert by_nurse.status_code == 403
    assert in_other_org.status_code == 404
    assert with_stranger.status_code == 422
    assert duplicate.status_code == 409


async def test_a_group_is_read_renamed_and_its_members_changed(
    client: httpx.AsyncClient, world: World, admin: Account
) -> None:
    group = await ok(await create_group(client, admin, world.org_a, []))
    url = f"/api/v1/groups/{group['id']}"

    renamed = await ok(await call(client, "PATCH", url, admin, json={"name": "Kidney team"}))
    added = await ok(await call(client, "PUT", f"{url}/members/{world.clinician_a.id}", admin))
    stranger = await call(client, "PUT", f"{url}/members/{world.clinician_b.id}", admin)
    read_by_member_org = await call(client, "GET", url, world.nurse_a)
    read_by_other_org = await call(client, "GET", url, world.clinician_b)
    removed = await call(client, "DELETE", f"{url}/members/{world.clinician_a.id}", admin)
    not_member = await call(client, "DELETE", f"{url}/members/{world.clinician_a.id}", admin)

    assert renamed["name"] == "Kidney team"
    assert [m["id"] for m in added["members"]] == [world.clinician_a.id]
    assert stranger.status_code == 422
    assert read_by_member_org.status_code == 200
    assert read_by_other_org.status_code == 404
    assert removed.status_code == 204
    assert not_member.status_code == 404


async def test_a_group_conversation_is_seen_by_members_and_lost_by_a_removed_one(
    client: httpx.AsyncClient, thread: Thread, admin: Account
) -> None:
    world = thread.world
    hospital = await create_organisation(client, admin, "City Hospital")
    await ok(
        await call(
            client,
            "PUT",
            f"/api/v1/organisations/{hospital}/patients/{world.patient_1}",
            admin,
            json={},
        )
    )
    member = await staff_member(client, admin, "renal_nurse", hospital, base_profession="nurse")
    group = await ok(await create_group(client, admin, hospital, [member.id]))
    elsewhere = await ok(await create_group(client, admin, world.org_b, []))

    added = await ok(
        await call(
            client,
            "POST",
            f"{thread.url}/participants",
            world.clinician_a,
            json={"group_id": group["id"]},
        )
    )
    foreign = await call(
        client,
        "POST",
        f"{thread.url}/participants",
        world.clinician_a,
        json={"group_id": elsewhere["id"]},
    )
    inbox = await ok(await call(client, "GET", "/api/v1/conversations", member))
    written = await call(client, "POST", f"{thread.url}/messages", member, json={"text": "On it"})
    reply = await ok(
        await call(
            client, "POST", f"{thread.url}/messages", world.clinician_a, json={"text": "Thanks"}
        )
    )
    member_thread = await ok(await call(client, "GET", f"{thread.url}/messages", member))

    assert ("group", group["id"]) in [(p["kind"], p["id"]) for p in added["participants"]]
    assert hospital not in added["organisation_ids"]
    assert foreign.status_code == 422
    assert [item["id"] for item in inbox["items"]] == [thread.id]
    assert written.status_code == 201
    assert member_thread["items"][-1]["id"] == reply["id"]
    assert inbox["items"][0]["unread_count"] == 0

    await ok(
        await call(client, "DELETE", f"/api/v1/groups/{group['id']}/members/{member.id}", admin)
    )

    assert (await call(client, "GET", thread.url, member)).status_code == 404
    assert (await call(client, "GET", f"{thread.url}/messages", member)).status_code == 404
    assert (await ok(await call(client, "GET", "/api/v1/conversations", member)))["items"] == []
