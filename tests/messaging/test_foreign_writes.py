"""FHIR is a record other systems write too: what they add to Parley's threads is kept, shown
and rebuilt, never a crash and never erased.

Each test writes standard FHIR straight to the server (as another EHR would) and then uses
Parley through its API and its CLI, on the embedded store and on HAPI.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fhir.resources.R4B.communication import Communication
from fhir.resources.R4B.practitioner import Practitioner

from app.config import Settings
from app.fhir.protocol import FhirGateway
from tests.support.auth import Account
from tests.support.processes import parley_environment, run_parley
from tests.support.projection import drop_projection
from tests.support.world import World, build_world, call, ok

pytestmark = pytest.mark.usefixtures("fhir_url")

FOREIGN_SYSTEM = "https://ehr.example.org/Id/thread"


def refused(stderr: str, *fhir_ids: str) -> list[str]:
    """Which of these resources the run left unprojected (a shared FHIR server holds other
    tests' resources too, and those may well be refused here)."""
    return [fhir_id for fhir_id in fhir_ids if f"Communication/{fhir_id}:" in stderr]


def moment_before_test() -> str:
    return (datetime.now(UTC) - timedelta(seconds=2)).isoformat()


def reproject_env(settings: Settings) -> dict[str, str]:
    return parley_environment(
        PARLEY_DATABASE_URL=settings.database_url, PARLEY_FHIR_URL=settings.fhir_url
    )


async def started(client: httpx.AsyncClient, world: World) -> dict[str, Any]:
    conversation: dict[str, Any] = await ok(
        await call(
            client, "POST", "/api/v1/conversations", world.clinician_a,
            json={"patient_id": world.patient_1, "subject": "Statin review",
                  "include_patient": True, "message": {"text": "How are the new tablets?"}},
        )
    )  # fmt: skip
    return conversation


async def practitioner(fhir: FhirGateway, family: str) -> str:
    """A clinician of another system, as that system would record them."""
    created = await fhir.create(
        Practitioner.model_validate(
            {"resourceType": "Practitioner", "name": [{"family": family, "given": ["Ada"]}]}
        )
    )
    return str(created.id)


async def decorate_header(fhir: FhirGateway, header_id: str, practitioner_id: str) -> None:
    """Another system adds a recipient of its own and fields Parley never writes."""
    current = await fhir.read(Communication, header_id)
    document = current.model_dump(mode="json")
    document["recipient"] = [
        *document["recipient"],
        {"reference": f"Practitioner/{practitioner_id}", "display": "Dr Ada Lovelace"},
    ]
    document["identifier"] = [*document["identifier"], {"system": FOREIGN_SYSTEM, "value": "T-1"}]
    document["note"] = [{"text": "Copied to the renal team"}]
    document["meta"]["tag"] = [
        *document["meta"]["tag"],
        {"system": FOREIGN_SYSTEM, "code": "renal"},
    ]
    document["extension"] = [
        *document.get("extension", []),
        {"url": "https://ehr.example.org/fhir/StructureDefinition/ward", "valueString": "B4"},
    ]
    document["topic"] = {
        **document["topic"],
        "coding": [{"system": FOREIGN_SYSTEM, "code": "statin"}],
    }
    document["priority"] = "urgent"
    document["medium"] = [
        {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationMode",
                     "code": "WRITTEN"}]}
    ]  # fmt: skip
    changed = Communication.model_validate(document)
    await fhir.update(changed, if_match=str(current.meta.versionId))  # type: ignore[union-attr]


async def foreign_reply(
    fhir: FhirGateway,
    header_id: str,
    patient_id: str,
    practitioner_id: str,
    *,
    display: bool,
    text: str = "Kidney function is fine; carry on.",
    **elements: Any,
) -> str:
    """A reply another system posts into the thread: standard elements only, no Parley marks."""
    sender: dict[str, Any] = {"reference": f"Practitioner/{practitioner_id}"}
    if display:
        sender["display"] = "Dr Ada Lovelace"
    document = {
        "resourceType": "Communication",
        "status": "completed",
        "partOf": [{"reference": f"Communication/{header_id}"}],
        "subject": {"reference": f"Patient/{patient_id}"},
        "sender": sender,
        "sent": (datetime.now(UTC) + timedelta(seconds=1)).isoformat(),
        "payload": [{"contentString": text}],
    }
    created = await fhir.create(Communication.model_validate(document | elements))
    return str(created.id)


async def test_a_header_another_system_changed_can_still_be_closed_and_keeps_its_fields(
    client: httpx.AsyncClient, app: FastAPI, admin: Account, settings: Settings
) -> None:
    since = moment_before_test()
    world = await build_world(client, admin)
    conversation = await started(client, world)
    fhir: FhirGateway = app.state.fhir
    practitioner_id = await practitioner(fhir, "Lovelace")
    await decorate_header(fhir, conversation["fhir_id"], practitioner_id)
    path = f"/api/v1/conversations/{conversation['id']}"

    closed = await call(client, "PATCH", path, world.clinician_a, json={"status": "closed"})
    reopened = await call(client, "PATCH", path, world.clinician_a, json={"status": "active"})
    header = (await fhir.read(Communication, conversation["fhir_id"])).model_dump(mode="json")
    rebuilt = await run_parley("reproject", "--since", since, env=reproject_env(settings))

    assert closed.status_code == 200, closed.text
    assert reopened.status_code == 200, reopened.text
    assert header["status"] == "in-progress"
    assert {"reference": f"Practitioner/{practitioner_id}", "display": "Dr Ada Lovelace"} in (
        header["recipient"]
    )
    assert {"system": FOREIGN_SYSTEM, "value": "T-1"} in header["identifier"]
    assert header["note"] == [{"text": "Copied to the renal team"}]
    assert header["priority"] == "urgent"
    assert header["medium"][0]["coding"][0]["code"] == "WRITTEN"
    assert header["topic"] == {
        "text": "Statin review",
        "coding": [{"system": FOREIGN_SYSTEM, "code": "statin"}],
    }
    assert {"system": FOREIGN_SYSTEM, "code": "renal"} in header["meta"]["tag"]
    assert [tag["code"] for tag in header["meta"]["tag"]].count("conversation") == 1
    assert {
        "url": "https://ehr.example.org/fhir/StructureDefinition/ward",
        "valueString": "B4",
    } in (header["extension"])
    assert rebuilt.code == 0, rebuilt.stderr
    assert refused(rebuilt.stderr, conversation["fhir_id"]) == []


async def test_a_participant_added_after_another_system_wrote_keeps_its_recipient(
    client: httpx.AsyncClient, app: FastAPI, admin: Account
) -> None:
    world = await build_world(client, admin)
    conversation = await started(client, world)
    fhir: FhirGateway = app.state.fhir
    practitioner_id = await practitioner(fhir, "Lovelace")
    await decorate_header(fhir, conversation["fhir_id"], practitioner_id)

    added = await call(
        client, "POST", f"/api/v1/conversations/{conversation['id']}/participants",
        world.clinician_a, json={"user_id": world.nurse_a.id},
    )  # fmt: skip
    header = (await fhir.read(Communication, conversation["fhir_id"])).model_dump(mode="json")

    assert added.status_code == 200, added.text
    references = [recipient.get("reference") for recipient in header["recipient"]]
    assert f"Practitioner/{practitioner_id}" in references
    assert header["note"] == [{"text": "Copied to the renal team"}]
    assert len(header["recipient"]) == 4  # clinician A, patient 1, the nurse, Dr Lovelace


@pytest.mark.parametrize("rebuild", ["--conversation", "--since"])
async def test_a_reply_another_system_posts_into_a_thread_is_shown_with_its_sender(
    client: httpx.AsyncClient, app: FastAPI, admin: Account, settings: Settings, rebuild: str
) -> None:
    since = moment_before_test()
    world = await build_world(client, admin)
    conversation = await started(client, world)
    fhir: FhirGateway = app.state.fhir
    practitioner_id = await practitioner(fhir, "Lovelace")
    reply_id = await foreign_reply(
        fhir, conversation["fhir_id"], world.patient_1, practitioner_id, display=True
    )
    argument = (
        await _conversation_uuid(fhir, conversation["fhir_id"])
        if rebuild == "--conversation"
        else since
    )
    path = f"/api/v1/conversations/{conversation['id']}"

    first = await run_parley("reproject", rebuild, argument, env=reproject_env(settings))
    second = await run_parley("reproject", rebuild, argument, env=reproject_env(settings))
    thread = await ok(await call(client, "GET", f"{path}/messages", world.clinician_a))
    inbox = await ok(await call(client, "GET", "/api/v1/conversations", world.patient_1_user))

    assert first.code == 0, first.stderr
    assert refused(first.stderr + second.stderr, reply_id, conversation["fhir_id"]) == []
    assert "1 new of" in first.stdout.split("and")[1]
    assert "0 new of" in second.stdout.split("and")[1]
    assert [(item["sender"], item["text"]) for item in thread["items"]] == [
        ({"id": world.clinician_a.id, "name": "Clinician A"}, "How are the new tablets?"),
        ({"id": None, "name": "Dr Ada Lovelace"}, "Kidney function is fine; carry on."),
    ]
    assert thread["items"][1]["fhir_id"] == reply_id
    mine = next(item for item in inbox["items"] if item["id"] == conversation["id"])
    assert mine["unread_count"] == 2  # the reply is new to the patient as well
    assert mine["last_message"]["sender"] == {"id": None, "name": "Dr Ada Lovelace"}


async def test_a_foreign_sender_without_a_display_is_named_from_its_resource(
    client: httpx.AsyncClient, app: FastAPI, admin: Account, settings: Settings
) -> None:
    since = moment_before_test()
    world = await build_world(client, admin)
    conversation = await started(client, world)
    fhir: FhirGateway = app.state.fhir
    practitioner_id = await practitioner(fhir, "Hopper")
    reply_id = await foreign_reply(
        fhir, conversation["fhir_id"], world.patient_1, practitioner_id, display=False
    )

    finished = await run_parley("reproject", "--since", since, env=reproject_env(settings))
    thread = await ok(
        await call(
            client, "GET", f"/api/v1/conversations/{conversation['id']}/messages",
            world.clinician_a,
        )
    )  # fmt: skip

    assert finished.code == 0, finished.stderr
    assert refused(finished.stderr, reply_id) == []
    assert thread["items"][-1]["sender"] == {"id": None, "name": "Ada Hopper"}


async def test_a_thread_with_foreign_writes_rebuilds_from_fhir_alone(
    client: httpx.AsyncClient, app: FastAPI, admin: Account, settings: Settings
) -> None:
    since = moment_before_test()
    world = await build_world(client, admin)
    conversation = await started(client, world)
    fhir: FhirGateway = app.state.fhir
    practitioner_id = await practitioner(fhir, "Lovelace")
    await decorate_header(fhir, conversation["fhir_id"], practitioner_id)
    reply_id = await foreign_reply(
        fhir, conversation["fhir_id"], world.patient_1, practitioner_id, display=True
    )
    await run_parley("reproject", "--since", since, env=reproject_env(settings))
    path = f"/api/v1/conversations/{conversation['id']}/messages"
    before = await ok(await call(client, "GET", path, world.clinician_a))

    await drop_projection(settings.database_url)
    rebuilt = await run_parley("reproject", "--since", since, env=reproject_env(settings))
    listing = await ok(await call(client, "GET", "/api/v1/conversations", world.clinician_a))
    after = await ok(
        await call(client, "GET", f"/api/v1/conversations/{listing['items'][0]['id']}/messages",
                   world.clinician_a)
    )  # fmt: skip

    assert rebuilt.code == 0, rebuilt.stderr
    assert refused(rebuilt.stderr, reply_id, conversation["fhir_id"]) == []
    assert [(item["sender"]["name"], item["text"]) for item in after["items"]] == [
        (item["sender"]["name"], item["text"]) for item in before["items"]
    ]
    assert len(after["items"]) == 2


async def _conversation_uuid(fhir: FhirGateway, header_id: str) -> str:
    """The conversation's Parley identifier, as another system reads it from the header."""
    header = await fhir.read(Communication, header_id)
    return next(
        str(identifier.value)
        for identifier in header.identifier or []
        if identifier.system != FOREIGN_SYSTEM
    )


async def test_a_foreign_clock_or_a_bare_date_cannot_move_the_thread_s_time(
    client: httpx.AsyncClient, app: FastAPI, admin: Account, settings: Settings
) -> None:
    since = moment_before_test()
    world = await build_world(client, admin)
    conversation = await started(client, world)
    fhir: FhirGateway = app.state.fhir
    practitioner_id = await practitioner(fhir, "Lovelace")
    header, patient = conversation["fhir_id"], world.patient_1
    ahead = await foreign_reply(
        fhir, header, patient, practitioner_id, display=True, text="From the future",
        sent="2099-01-01T00:00:00+00:00",
    )  # fmt: skip
    dated = await foreign_reply(
        fhir, header, patient, practitioner_id, display=True, text="A day only", sent="2024-05-01"
    )
    finished = await run_parley("reproject", "--since", since, env=reproject_env(settings))
    path = f"/api/v1/conversations/{conversation['id']}"
    answer = await ok(
        await call(client, "POST", f"{path}/messages", world.clinician_a, json={"text": "Noted"})
    )
    thread = await ok(await call(client, "GET", f"{path}/messages", world.clinician_a))
    amend = await call(
        client, "POST", f"{path}/messages", world.clinician_a,
        json={"text": "Changed", "amends_id": thread["items"][1]["id"]},
    )  # fmt: skip

    assert finished.code == 0, finished.stderr
    assert refused(finished.stderr, ahead, dated) == []
    assert [item["text"] for item in thread["items"]][-1] == "Noted"
    assert sorted(item["text"] for item in thread["items"][1:3]) == [
        "A day only",
        "From the future",
    ]
    assert answer["sent_at"] < "2099"
    assert all(item["sent_at"] < "2099" for item in thread["items"])
    assert amend.status_code == 403  # only its sender may correct a message


async def test_what_another_system_did_not_send_or_sent_about_another_patient_stays_out(
    client: httpx.AsyncClient, app: FastAPI, admin: Account, settings: Settings
) -> None:
    since = moment_before_test()
    world = await build_world(client, admin)
    conversation = await started(client, world)
    fhir: FhirGateway = app.state.fhir
    practitioner_id = await practitioner(fhir, "Lovelace")
    header = conversation["fhir_id"]
    await foreign_reply(
        fhir, header, world.patient_1, practitioner_id, display=True, text="Wrong thread",
        status="entered-in-error",
    )  # fmt: skip
    await foreign_reply(
        fhir, header, world.patient_1, practitioner_id, display=True, text="Draft",
        status="preparation",
    )  # fmt: skip
    other_patient = await foreign_reply(
        fhir, header, world.patient_2, practitioner_id, display=True, text="About patient two"
    )
    finished = await run_parley("reproject", "--since", since, env=reproject_env(settings))
    thread = await ok(
        await call(
            client, "GET", f"/api/v1/conversations/{conversation['id']}/messages",
            world.clinician_a,
        )
    )  # fmt: skip

    assert finished.code == 0, finished.stderr
    assert [item["text"] for item in thread["items"]] == ["How are the new tablets?"]
    assert refused(finished.stderr, other_patient) == [other_patient]
    assert "another patient" in finished.stderr


async def test_what_can_never_project_is_tried_less_and_less_often(
    client: httpx.AsyncClient, app: FastAPI, admin: Account, settings: Settings
) -> None:
    world = await build_world(client, admin)
    conversation = await started(client, world)
    fhir: FhirGateway = app.state.fhir
    practitioner_id = await practitioner(fhir, "Lovelace")
    wrong = await foreign_reply(
        fhir, conversation["fhir_id"], world.patient_2, practitioner_id, display=True
    )
    first = await run_parley("reproject", "--conversation", await _conversation_uuid(
        fhir, conversation["fhir_id"]), env=reproject_env(settings))  # fmt: skip
    # Runs whose window misses it reach it only as a retry: three at once, then spaced out.
    for _ in range(5):
        await run_parley(
            "reproject", "--since", "2100-01-01T00:00:00Z", env=reproject_env(settings)
        )
    listed = await run_parley("reproject", "--failed", env=reproject_env(settings))

    assert refused(first.stderr, wrong) == [wrong]
    line = next(line for line in listed.stdout.splitlines() if f"Communication/{wrong}" in line)
    assert "\t4 attempts\t" in line
