"""Triage forms over plain HTTP: starting a conversation for a team and as urgent, and
giving the work to a colleague or a team picked from the conversation page."""

import re

import httpx

from tests.support.conversations import Thread
from tests.support.world import World, call, ok, staff_member, team_group
from tests.web.pages import browser_sign_in


async def test_a_conversation_started_for_a_team_and_as_urgent_is_theirs_first(
    client: httpx.AsyncClient, world: World
) -> None:
    results = await team_group(client, world, "Results", world.org_a, world.nurse_a.id)
    csrf = await browser_sign_in(client, world.clinician_a)
    form_page = await client.get("/conversations/new", params={"patient_id": world.patient_1})

    started = await client.post("/conversations", data={
        "csrf_token": csrf, "patient_id": world.patient_1, "subject": "Blood results",
        "group_ids": str(results), "urgent": "true", "text": "Potassium 6.1, please review.",
    })  # fmt: skip
    assert started.status_code == 303, re.findall(r'class="error"[^>]*>([^<]+)', started.text)
    conversation_id = int(started.headers["location"].rsplit("/", 1)[1])
    detail = await ok(await call(client, "GET", f"/api/v1/conversations/{conversation_id}",
                                 world.clinician_a))  # fmt: skip
    nurse_teams = await ok(await call(client, "GET", "/api/v1/conversations", world.nurse_a,
                                      params={"view": "teams"}))  # fmt: skip

    assert 'name="group_ids"' in form_page.text
    assert "Results (team)" in form_page.text
    assert started.status_code == 303, started.text
    assert detail["priority"] == "urgent"
    assert {"kind": "group", "id": results} in [
        {"kind": each["kind"], "id": each["id"]} for each in detail["participants"]
    ]
    assert [item["id"] for item in nurse_teams["items"]] == [conversation_id]


async def test_work_is_given_to_a_colleague_or_a_team_picked_on_the_page(
    client: httpx.AsyncClient, thread: Thread
) -> None:
    world = thread.world
    colleague = await staff_member(client, world.admin, "dr_colleague", world.org_a)
    results = await team_group(client, world, "Results", world.org_a, colleague.id)
    csrf = await browser_sign_in(client, world.clinician_a)
    page = await client.get(f"/conversations/{thread.id}")
    offered = set(re.findall(r'<option value="((?:user|group):\d+)"', page.text))

    async def assign(assignee: str) -> httpx.Response:
        form = {"csrf_token": csrf, "assignee": assignee}
        return await client.post(f"/conversations/{thread.id}/assign", data=form)

    to_colleague = await assign(f"user:{colleague.id}")
    after_colleague = await ok(await call(client, "GET", thread.url, world.clinician_a))
    await assign(f"group:{results}")
    after_team = await ok(await call(client, "GET", thread.url, world.clinician_a))
    forged = await assign(f"user:{world.clinician_b.id}")
    nonsense = [
        (await assign(choice)).status_code
        for choice in ("everyone", "user:", "user:\x00", "user:\uff11\uff12", "user:²",
                       "user:99999999999999", "group:-1", "user:1:2")
    ]  # fmt: skip

    assert {f"user:{colleague.id}", f"group:{results}", f"user:{world.clinician_a.id}"} <= offered
    assert f"user:{world.clinician_b.id}" not in offered  # another organisation's
    assert to_colleague.status_code == 303
    assert after_colleague["assignee"]["id"] == colleague.id
    assert after_team["assignee"] == {"type": "group", "id": results, "name": "Results"}
    assert forged.status_code == 422
    assert nonsense == [422] * 8
    final = await ok(await call(client, "GET", thread.url, world.clinician_a))
    assert final["assignee"]["type"] == "group"
