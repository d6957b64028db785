"""Care-team triage through the API: a conversation's priority, whose it is (a FHIR Task's
owner), whether the team's work on it is done, and how long its patient has waited."""

from typing import Any

import httpx
import pytest
from fhir.resources.R4B.communication import Communication
from fhir.resources.R4B.task import Task

from app.config import Settings
from tests.support.auth import Account
from tests.support.conversations import Thread, send
from tests.support.fhir import fhir_gateway, stored
from tests.support.world import call, ok, staff_member, team_group

pytestmark = pytest.mark.usefixtures("fhir_url")


async def detail(client: httpx.AsyncClient, thread: Thread, reader: Account) -> dict[str, Any]:
    found: dict[str, Any] = await ok(await call(client, "GET", thread.url, reader))
    return found


async def task_in_fhir(settings: Settings, conversation_id: int) -> dict[str, Any]:
    """The conversation's FHIR Task, read back by the id its row keeps."""
    fhir_id = await stored(
        settings,
        "SELECT fhir_id FROM conversation_tasks WHERE conversation_id = :id",
        id=conversation_id,
    )
    assert fhir_id is not None, "no task was kept for the conversation"
    async with fhir_gateway(settings) as fhir:
        return dict((await fhir.read(Task, fhir_id)).model_dump(mode="json"))


async def group_fhir_id(settings: Settings, group_id: int) -> str:
    return str(await stored(settings, "SELECT fhir_id FROM groups WHERE id = :id", id=group_id))


async def test_urgent_is_kept_on_the_thread_header_and_shown_in_the_inbox(
    client: httpx.AsyncClient, thread: Thread, settings: Settings
) -> None:
    world = thread.world
    assert (await detail(client, thread, world.clinician_a))["priority"] == "routine"

    changed = await ok(
        await call(client, "PATCH", thread.url, world.clinician_a, json={"priority": "urgent"})
    )
    by_patient = await call(client, "PATCH", thread.url, world.patient_1_user,
                            json={"priority": "routine"})  # fmt: skip

    assert changed["priority"] == "urgent"
    assert changed["status"] != "closed"  # priority alone changes nothing else
    assert by_patient.status_code in (403, 404)
    inbox = await ok(await call(client, "GET", "/api/v1/conversations", world.clinician_a))
    assert [item["priority"] for item in inbox["items"] if item["id"] == thread.id] == ["urgent"]
    async with fhir_gateway(settings) as fhir:
        header = await fhir.read(Communication, changed["fhir_id"])
    assert header.priority == "urgent"


async def test_an_urgent_message_is_urgent_in_fhir_and_makes_its_conversation_urgent(
    client: httpx.AsyncClient, thread: Thread, settings: Settings
) -> None:
    world = thread.world
    urgent = {"text": "Please call us today", "priority": "urgent"}
    sent = await ok(await call(client, "POST", f"{thread.url}/messages", world.clinician_a,
                               json=urgent))  # fmt: skip
    by_patient = await call(client, "POST", f"{thread.url}/messages", world.patient_1_user,
                            json={"text": "Help", "priority": "urgent"})  # fmt: skip
    routine = await ok(await send(client, thread, world.clinician_a, "And bring your inhaler"))
    page = await ok(await call(client, "GET", f"{thread.url}/messages", world.patient_1_user))

    assert sent["urgent"] is True
    assert routine["urgent"] is False
    async with fhir_gateway(settings) as fhir:
        communication = await fhir.read(Communication, sent["fhir_id"])
        plain = await fhir.read(Communication, routine["fhir_id"])
    assert communication.priority == "urgent"
    assert plain.priority is None
    assert (await detail(client, thread, world.clinician_a))["priority"] == "urgent"
    assert by_patient.status_code == 422  # a patient's emergency is for 999 or 111
    denied = {"action": "messages.send", "outcome": "denied"}
    refusals = await ok(await call(client, "GET", "/api/v1/audit", world.admin, params=denied))
    assert [row["reason"] for row in refusals["items"]] == ["urgent-not-allowed"]
    assert "Help" not in [message["text"] for message in page["items"]]
    # Urgency is the care team's triage, for messages as for conversations.
    assert [m["urgent"] for m in page["items"] if m["id"] == sent["id"]] == [False]


async def test_a_conversation_can_start_urgent(client: httpx.AsyncClient, thread: Thread) -> None:
    world = thread.world
    body = {"patient_id": world.patient_1, "priority": "urgent", "message": {"text": "Call me"}}
    started = await ok(await call(client, "POST", "/api/v1/conversations", world.clinician_a,
                                  json=body))  # fmt: skip

    assert started["priority"] == "urgent"


async def test_waiting_starts_with_the_oldest_unanswered_patient_message(
    client: httpx.AsyncClient, thread: Thread
) -> None:
    world = thread.world
    assert (await detail(client, thread, world.clinician_a))["awaiting_reply_since"] is None

    first = await ok(await send(client, thread, world.patient_1_user, "My ankle is swollen"))
    await ok(await send(client, thread, world.patient_1_user, "And it hurts to walk"))
    waiting = (await detail(client, thread, world.clinician_a))["awaiting_reply_since"]
    await ok(await send(client, thread, world.clinician_a, "Please come in at 3pm"))
    answered = (await detail(client, thread, world.clinician_a))["awaiting_reply_since"]
    again = await ok(await send(client, thread, world.patient_1_user, "Thank you, see you then"))
    waiting_again = (await detail(client, thread, world.clinician_a))["awaiting_reply_since"]

    assert waiting == first["sent_at"]
    assert answered is None
    assert waiting_again == again["sent_at"]


async def test_assigning_writes_a_task_that_names_its_owner(
    client: httpx.AsyncClient, thread: Thread, settings: Settings
) -> None:
    world = thread.world
    team_id = await team_group(client, world, "Minor injuries", world.org_a, world.clinician_a.id)

    to_person = await ok(await call(client, "PUT", f"{thread.url}/assignee", world.clinician_a,
                                    json={"user_id": world.clinician_a.id}))  # fmt: skip
    first_task = await task_in_fhir(settings, thread.id)
    to_team = await ok(await call(client, "PUT", f"{thread.url}/assignee", world.clinician_a,
                                  json={"group_id": team_id}))  # fmt: skip
    second_task = await task_in_fhir(settings, thread.id)
    header = (await detail(client, thread, world.clinician_a))["fhir_id"]

    assert to_person["assignee"]["type"] == "user"
    assert to_person["assignee"]["id"] == world.clinician_a.id
    assert first_task["owner"]["reference"].startswith("Practitioner/")
    assert first_task["status"] == "requested"
    assert first_task["focus"]["reference"] == f"Communication/{header}"
    assert first_task["for"]["reference"] == f"Patient/{world.patient_1}"
    assert to_team["assignee"] == {"type": "group", "id": team_id, "name": "Minor injuries"}
    assert second_task["id"] == first_task["id"]  # reassigning updates the one Task
    # R4 allows no Group as a Task's owner: the team is named by its directory identifier.
    assert second_task["owner"]["identifier"]["value"] == await group_fhir_id(settings, team_id)
    assert second_task["owner"]["display"] == "Minor injuries"

    unassigned = await ok(await call(client, "DELETE", f"{thread.url}/assignee",
                                     world.clinician_a))  # fmt: skip
    assert unassigned["assignee"] is None
    assert "owner" not in await task_in_fhir(settings, thread.id)


async def test_only_the_care_team_assigns_and_only_to_its_own_people(
    client: httpx.AsyncClient, thread: Thread
) -> None:
    world = thread.world
    url = f"{thread.url}/assignee"

    elsewhere = await call(client, "PUT", url, world.clinician_a,
                           json={"user_id": world.clinician_b.id})  # fmt: skip
    a_patient = await call(client, "PUT", url, world.clinician_a,
                           json={"user_id": world.patient_1_user.id})  # fmt: skip
    both = await call(client, "PUT", url, world.clinician_a,
                      json={"user_id": world.clinician_a.id, "group_id": 1})  # fmt: skip
    by_patient = await call(client, "PUT", url, world.patient_1_user,
                            json={"user_id": world.clinician_a.id})  # fmt: skip
    by_stranger = await call(client, "PUT", url, world.clinician_b,
                             json={"user_id": world.clinician_a.id})  # fmt: skip

    assert elsewhere.status_code == 422
    assert a_patient.status_code == 422
    assert both.status_code == 422
    assert by_patient.status_code in (403, 404)
    assert by_stranger.status_code == 404
    assert (await detail(client, thread, world.clinician_a))["assignee"] is None


async def test_done_is_not_closed_and_a_patient_message_opens_it_again(
    client: httpx.AsyncClient, thread: Thread, settings: Settings
) -> None:
    world = thread.world
    done = await ok(await call(client, "POST", f"{thread.url}/done", world.clinician_a,
                               json={"note": "Booked for Tuesday"}))  # fmt: skip
    task = await task_in_fhir(settings, thread.id)
    staff_writes = await send(client, thread, world.clinician_a, "See you Tuesday")
    still_done = (await detail(client, thread, world.clinician_a))["done_at"]
    await ok(await send(client, thread, world.patient_1_user, "Can I bring my daughter?"))
    reopened = await detail(client, thread, world.clinician_a)
    task_reopened = await task_in_fhir(settings, thread.id)

    assert done["done_at"] is not None
    assert done["status"] != "closed"
    assert task["status"] == "completed"
    assert task["note"] == [{"text": "Booked for Tuesday"}]
    assert staff_writes.status_code == 201  # done is not closed
    assert still_done == done["done_at"]  # the team's own message leaves it done
    assert reopened["done_at"] is None
    # FHIR says so too: another system asking for the patient's open work finds it.
    assert task_reopened["status"] == "requested"
    assert "note" not in task_reopened

    await ok(await call(client, "POST", f"{thread.url}/done", world.clinician_a))
    undone = await ok(await call(client, "POST", f"{thread.url}/undone", world.clinician_a))
    assert undone["done_at"] is None
    assert (await task_in_fhir(settings, thread.id))["status"] == "requested"


async def test_work_goes_only_to_someone_who_may_read_it_and_a_refusal_is_audited(
    client: httpx.AsyncClient, thread: Thread
) -> None:
    world = thread.world
    receptionist = await staff_member(
        client, world.admin, "reception_a", world.org_a, base_profession="admin_staff"
    )

    refused = await call(client, "PUT", f"{thread.url}/assignee", world.clinician_a,
                         json={"user_id": receptionist.id})  # fmt: skip
    audit = await ok(
        await call(
            client,
            "GET",
            "/api/v1/audit",
            world.admin,
            params={"action": "conversations.assign", "outcome": "denied"},
        )
    )

    assert refused.status_code == 422  # they could not open it: the work would sit unseen
    assert [row["reason"] for row in audit["items"]] == ["not-an-assignee"]


async def test_a_patient_sees_none_of_the_care_teams_triage(
    client: httpx.AsyncClient, thread: Thread
) -> None:
    world = thread.world
    await ok(
        await call(client, "PATCH", thread.url, world.clinician_a, json={"priority": "urgent"})
    )
    await ok(await call(client, "PUT", f"{thread.url}/assignee", world.clinician_a,
                        json={"user_id": world.clinician_a.id}))  # fmt: skip
    await ok(await send(client, thread, world.patient_1_user, "Still waiting"))

    seen = await detail(client, thread, world.patient_1_user)
    listed = await ok(await call(client, "GET", "/api/v1/conversations", world.patient_1_user))
    urgent_start = await call(client, "POST", "/api/v1/conversations", world.patient_1_user,
                              json={"patient_id": world.patient_1, "priority": "urgent",
                                    "message": {"text": "Help"}})  # fmt: skip

    triage = ("priority", "assignee", "done_at", "awaiting_reply_since")
    assert {name: seen[name] for name in triage} == dict.fromkeys(triage)
    for item in listed["items"]:
        assert {name: item[name] for name in triage} == dict.fromkeys(triage)
    assert urgent_start.status_code in (403, 422)


async def test_a_correction_does_not_answer_the_patient(
    client: httpx.AsyncClient, thread: Thread
) -> None:
    world = thread.world
    mine = await ok(await send(client, thread, world.clinician_a, "Take 50 mg"))
    asked = await ok(await send(client, thread, world.patient_1_user, "50 mg of what?"))
    await ok(await send(client, thread, world.clinician_a, "Take 5 mg", amends_id=mine["id"]))

    assert (await detail(client, thread, world.clinician_a))["awaiting_reply_since"] == (
        asked["sent_at"]
    )
