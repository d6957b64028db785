"""The inbox's views for staff: mine, teams, organisation, unassigned, overdue; and the
priority filter. A patient's inbox is theirs, whatever the view."""

import asyncio
import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from app.config import Settings
from app.conversations.models import Conversation
from app.db import create_engine
from tests.support.auth import Account
from tests.support.conversations import Thread, send, start_conversation
from tests.support.world import World, call, ok, staff_member, team_group


async def listed(client: httpx.AsyncClient, reader: Account, view: str, **params: Any) -> set[int]:
    page = await ok(await call(client, "GET", "/api/v1/conversations", reader,
                               params={"view": view} | params))  # fmt: skip
    return {item["id"] for item in page["items"]}


async def eventually_listed(
    client: httpx.AsyncClient, reader: Account, view: str, expected: set[int]
) -> set[int]:
    """The view once the app's escalation passes (every fraction of a second here) have
    caught up with it, or as it stands after ten seconds."""
    for _ in range(100):
        found = await listed(client, reader, view)
        if found == expected:
            return found
        await asyncio.sleep(0.1)
    return found


async def waited_since(settings: Settings, conversation_id: int, when: datetime) -> None:
    """Test setup: the patient's wait began `when` (a test cannot wait two days)."""
    engine = create_engine(settings.database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                update(Conversation)
                .where(Conversation.id == conversation_id)
                .values(awaiting_reply_since=when)
            )
    finally:
        await engine.dispose()


async def test_each_view_holds_what_it_says(
    client: httpx.AsyncClient, thread: Thread, settings: Settings
) -> None:
    world = thread.world
    colleague = await staff_member(client, world.admin, "colleague_a", world.org_a)
    theirs = (await start_conversation(client, world, colleague, include_patient=True))["id"]
    for_team = (await start_conversation(client, world, colleague))["id"]
    team_id = await team_group(client, world, "Results", world.org_a, world.clinician_a.id)
    await ok(await call(client, "PUT", f"/api/v1/conversations/{for_team}/assignee", colleague,
                        json={"group_id": team_id}))  # fmt: skip
    reader = world.clinician_a

    assert await listed(client, reader, "organisation") >= {thread.id, theirs, for_team}
    assert await listed(client, reader, "mine") == {thread.id, for_team}
    assert await listed(client, reader, "teams") == {for_team}
    assert await listed(client, reader, "unassigned") == {thread.id, theirs}

    await ok(await call(client, "PUT", f"/api/v1/conversations/{theirs}/assignee", colleague,
                        json={"user_id": reader.id}))  # fmt: skip
    await ok(await call(client, "POST", f"{thread.url}/done", reader))
    assert await listed(client, reader, "mine") == {thread.id, theirs, for_team}
    assert await listed(client, reader, "unassigned") == set()  # one done, one assigned

    await ok(await send(client, thread, world.patient_1_user, "Any news?"))
    await waited_since(settings, thread.id, datetime.now(UTC) - timedelta(hours=49))
    await ok(await send(client, Thread(world, theirs, f"/api/v1/conversations/{theirs}"),
                        world.patient_1_user, "Hello?"))  # fmt: skip
    # 49 hours, over the 48 an organisation allows unless it says otherwise; reopened.
    assert await eventually_listed(client, reader, "overdue", {thread.id}) == {thread.id}
    assert await listed(client, colleague, "mine") == {theirs, for_team}


async def test_priority_filters_and_a_patient_ignores_views(
    client: httpx.AsyncClient, thread: Thread
) -> None:
    world = thread.world
    other = await start_conversation(client, world, world.clinician_a, include_patient=True)
    await ok(await call(client, "PATCH", thread.url, world.clinician_a,
                        json={"priority": "urgent"}))  # fmt: skip

    urgent = await listed(client, world.clinician_a, "organisation", priority="urgent")
    routine = await listed(client, world.clinician_a, "mine", priority="routine")
    patient_sees = await listed(client, world.patient_1_user, "teams")

    assert urgent == {thread.id}
    assert routine == {other["id"]}
    assert patient_sees == {thread.id, other["id"]}


async def test_the_counts_are_the_lists_numbers(
    client: httpx.AsyncClient, thread: Thread, settings: Settings
) -> None:
    world = thread.world
    colleague = await staff_member(client, world.admin, "colleague_b", world.org_a)
    theirs = (await start_conversation(client, world, colleague, include_patient=True))["id"]
    closed = (await start_conversation(client, world, colleague))["id"]
    await ok(await call(client, "PATCH", f"/api/v1/conversations/{closed}", colleague,
                        json={"status": "closed"}))  # fmt: skip
    await ok(await send(client, thread, world.patient_1_user, "Any news?"))
    await waited_since(settings, thread.id, datetime.now(UTC) - timedelta(hours=50))
    await ok(await call(client, "PUT", f"/api/v1/conversations/{theirs}/assignee", colleague,
                        json={"user_id": colleague.id}))  # fmt: skip
    await eventually_listed(client, world.clinician_a, "overdue", {thread.id})

    for reader in (world.clinician_a, colleague, world.patient_1_user):
        counts = await ok(await call(client, "GET", "/api/v1/conversations/counts", reader))
        for view in ("mine", "teams", "organisation", "unassigned", "overdue"):
            page = await ok(await call(client, "GET", "/api/v1/conversations", reader,
                                       params={"view": view}))  # fmt: skip
            still_open = [item for item in page["items"] if item["status"] != "closed"]
            assert counts[view] == {
                "open": len(still_open),
                "unread": len([item for item in still_open if item["unread_count"]]),
            }, (reader.username, view)
    mine = await ok(await call(client, "GET", "/api/v1/conversations/counts", world.clinician_a))
    assert mine["overdue"] == {"open": 1, "unread": 1}


async def pages_of(client: httpx.AsyncClient, reader: Account, **params: Any) -> list[int]:
    """Every conversation of a listing, one page of one at a time, in order."""
    order: list[int] = []
    cursor = None
    while True:
        query = {"limit": 1} | params | ({"cursor": cursor} if cursor else {})
        page = await ok(await call(client, "GET", "/api/v1/conversations", reader, params=query))
        order += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return order


async def test_urgent_conversations_come_first_in_every_view_and_across_pages(
    client: httpx.AsyncClient, thread: Thread
) -> None:
    world = thread.world
    newer, newest = [
        (await start_conversation(client, world, world.clinician_a, include_patient=True))["id"]
        for _ in range(2)
    ]
    oldest = thread.id
    for urgent in (oldest, newer):
        await ok(await call(client, "PATCH", f"/api/v1/conversations/{urgent}",
                            world.clinician_a, json={"priority": "urgent"}))  # fmt: skip
    # Marking urgent is not activity: the urgent ones keep their places among themselves.
    expected = [newer, oldest, newest]

    for view in ("mine", "organisation", "unassigned"):
        assert await pages_of(client, world.clinician_a, view=view) == expected, view
        assert await listed(client, world.clinician_a, view) == set(expected)
    assert await pages_of(client, world.clinician_a, priority="routine") == [newest]
    assert await pages_of(client, world.clinician_a, priority="urgent") == [newer, oldest]
    # A patient is not told which of their conversations the team thinks urgent.
    assert await pages_of(client, world.patient_1_user) == [newest, newer, oldest]
    assert await pages_of(client, world.patient_1_user, priority="urgent") == [
        newest, newer, oldest,
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("rank", "reader"),
    [("stat", "clinician_a"), ("any", "clinician_a"), ("urgent", "patient_1_user")],
)
async def test_a_cursor_that_is_not_ours_is_refused(
    client: httpx.AsyncClient, thread: Thread, rank: str, reader: str
) -> None:
    forged = base64.urlsafe_b64encode(json.dumps([rank, "2026-01-01T00:00:00+00:00", 1]).encode())
    response = await call(client, "GET", "/api/v1/conversations", getattr(thread.world, reader),
                          params={"cursor": forged.decode()})  # fmt: skip
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("cursor", "answer"),
    [
        (["urgent", "2026-01-01T00:00:00+00:00", 2**63 - 1], 200),  # the largest id: a page
        (["urgent", "2026-01-01T00:00:00+00:00", 2**63], 422),
        (["urgent", "2026-01-01T00:00:00+00:00", -1], 422),
        (["urgent\u0000", "2026-01-01T00:00:00+00:00", 1], 422),
        (["urgent", "2026-01-01T00:00:00", 1], 422),  # no time zone
        (["routine", "2026-01-01T00:00:00+00:00", 1, 1], 422),
    ],
)
async def test_a_cursor_with_huge_or_hostile_values_is_a_clear_answer(
    client: httpx.AsyncClient, thread: Thread, cursor: list[object], answer: int
) -> None:
    forged = base64.urlsafe_b64encode(json.dumps(cursor).encode()).decode()
    response = await call(client, "GET", "/api/v1/conversations", thread.world.clinician_a,
                          params={"cursor": forged, "view": "organisation"})  # fmt: skip
    assert response.status_code == answer, response.text
    if answer == 200:
        assert [item["id"] for item in response.json()["items"]] == [thread.id]  # routine run


async def test_a_conversation_starts_with_teams_of_the_patients_organisations_only(
    client: httpx.AsyncClient, world: World
) -> None:
    ours = await team_group(client, world, "Results", world.org_a, world.nurse_a.id)
    theirs = await team_group(client, world, "Hilltop team", world.org_b, world.clinician_b.id)

    def start(*group_ids: int) -> dict[str, Any]:
        return {"patient_id": world.patient_1, "group_ids": list(group_ids),
                "message": {"text": "Please review"}}  # fmt: skip

    refused = await call(client, "POST", "/api/v1/conversations", world.clinician_a,
                         json=start(ours, theirs))  # fmt: skip
    started = await ok(await call(client, "POST", "/api/v1/conversations", world.clinician_a,
                                  json=start(ours)))  # fmt: skip

    by_patient = await call(client, "POST", "/api/v1/conversations", world.patient_1_user,
                            json=start(ours))  # fmt: skip

    assert refused.status_code == 422
    assert str(theirs) in refused.json()["detail"]
    assert by_patient.status_code == 422  # which teams a practice has is not a patient's
    refusals = await ok(await call(client, "GET", "/api/v1/audit", world.admin, params={
        "action": "conversations.start", "outcome": "denied"}))  # fmt: skip
    assert sorted(row["reason"] for row in refusals["items"]) == [
        "group_ids-not-allowed", "not-a-team-of-the-patient",
    ]  # fmt: skip
    assert await listed(client, world.clinician_b, "organisation") == set()
    assert await listed(client, world.nurse_a, "teams") == {started["id"]}
    assert ("group", ours) in {(p["kind"], p["id"]) for p in started["participants"]}


async def test_assigned_to_me_narrows_any_view_to_my_own_work(
    client: httpx.AsyncClient, thread: Thread
) -> None:
    world = thread.world
    colleague = await staff_member(client, world.admin, "colleague_c", world.org_a)
    mine = (await start_conversation(client, world, colleague, include_patient=True))["id"]
    await start_conversation(client, world, colleague, include_patient=True)
    await ok(await call(client, "PUT", f"/api/v1/conversations/{mine}/assignee", colleague,
                        json={"user_id": world.clinician_a.id}))  # fmt: skip

    for view in ("mine", "organisation", "unassigned"):
        expected = set() if view == "unassigned" else {mine}
        found = await listed(client, world.clinician_a, view, assigned="me")
        assert found == expected, view
    assert await listed(client, world.patient_1_user, "mine", assigned="me") == (
        await listed(client, world.patient_1_user, "mine")
    )  # a patient has no assignments: the filter is the care team's
    refused = await call(client, "GET", "/api/v1/conversations", world.clinician_a,
                         params={"assigned": "someone"})  # fmt: skip
    assert refused.status_code == 422
