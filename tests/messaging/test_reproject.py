"""FHIR is the record: the SQL projection comes back from it alone."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import httpx
import pytest
from fastapi import FastAPI
from fhir.resources.R4B.communication import Communication

from app.config import Settings
from app.fhir.protocol import FhirGateway
from app.fhir.resources import MessageRecord, Party, build_message
from tests.support.auth import Account
from tests.support.processes import parley_environment, run_parley
from tests.support.projection import drop_projection, snapshot
from tests.support.world import World, build_world, call, ok, staff_member


async def busy_conversation(client: httpx.AsyncClient, world: World, admin: Account) -> str:
    nurse = await staff_member(client, admin, "nurse_ray", world.org_a, base_profession="nurse")
    started = await ok(
        await call(
            client, "POST", "/api/v1/conversations", world.clinician_a,
            json={"patient_id": world.patient_1, "subject": "Follow-up", "include_patient": True,
                  "participant_ids": [nurse.id], "message": {"text": "Dose is 5 mg"}},
        )
    )  # fmt: skip
    base = f"/api/v1/conversations/{started['id']}"
    thread = await ok(await call(client, "GET", f"{base}/messages", world.clinician_a))
    await ok(
        await call(
            client, "POST", f"{base}/messages", world.patient_1_user, json={"text": "Thanks"}
        )
    )
    await ok(
        await call(
            client, "POST", f"{base}/messages", world.clinician_a,
            json={"text": "Dose is 50 mg", "amends_id": thread["items"][0]["id"]},
        )
    )  # fmt: skip
    later = await staff_member(client, admin, "nurse_kim", world.org_a, base_profession="nurse")
    await ok(
        await call(
            client, "POST", f"{base}/participants", world.clinician_a, json={"user_id": later.id}
        )
    )
    await ok(await call(client, "PATCH", base, world.clinician_a, json={"status": "closed"}))
    other = await ok(
        await call(
            client, "POST", "/api/v1/conversations", world.clinician_b,
            json={"patient_id": world.patient_2, "message": {"text": "Another patient"}},
        )
    )  # fmt: skip
    return str(other["id"])


def reproject_env(settings: Settings) -> dict[str, str]:
    return parley_environment(
        PARLEY_DATABASE_URL=settings.database_url, PARLEY_FHIR_URL=settings.fhir_url
    )


@pytest.mark.usefixtures("fhir_url")
async def test_reproject_gives_back_the_same_rows(
    client: httpx.AsyncClient, admin: Account, settings: Settings
) -> None:
    # Only this test's resources: a shared FHIR server may hold many others.
    since = (datetime.now(UTC) - timedelta(seconds=2)).isoformat()
    world = await build_world(client, admin)
    await busy_conversation(client, world, admin)
    before = await snapshot(settings.database_url)

    await drop_projection(settings.database_url)
    emptied = await snapshot(settings.database_url)
    first = await run_parley("reproject", "--since", since, env=reproject_env(settings))
    after = await snapshot(settings.database_url)
    second = await run_parley("reproject", "--since", since, env=reproject_env(settings))

    assert emptied["messages"] == []
    assert first.code == 0, first.stderr
    assert after == before
    assert len(before["messages"]) == 4
    # Each counted once, however it was reached (a correction reaches its original first).
    assert "Projected 2 new of 2 conversations and 4 new of 4 messages." in first.stdout
    assert "0 new of" in second.stdout.split("and")[1]
    assert await snapshot(settings.database_url) == before


async def test_reproject_one_conversation(
    client: httpx.AsyncClient, admin: Account, settings: Settings
) -> None:
    world = await build_world(client, admin)
    await busy_conversation(client, world, admin)
    before = await snapshot(settings.database_url)
    wanted = before["conversations"][0][0]
    await drop_projection(settings.database_url)

    finished = await run_parley(
        "reproject", "--conversation", str(wanted), env=reproject_env(settings)
    )
    after = await snapshot(settings.database_url)

    assert finished.code == 0, finished.stderr
    assert [row[0] for row in after["conversations"]] == [wanted]
    assert after["messages"] == [row for row in before["messages"] if row[2] == wanted]


async def test_reproject_refuses_a_bad_time(settings: Settings) -> None:
    finished = await run_parley("reproject", "--since", "last tuesday", env=reproject_env(settings))

    assert finished.code == 1
    assert "ISO 8601" in finished.stderr


async def test_a_resource_that_cannot_be_projected_is_skipped_kept_and_retried(
    client: httpx.AsyncClient, app: FastAPI, admin: Account, settings: Settings
) -> None:
    """Another system wrote a message with an invisible direction control into a thread:
    the run goes on without it, lists it, and projects it once it is put right."""
    world = await build_world(client, admin)
    started = await ok(
        await call(
            client, "POST", "/api/v1/conversations", world.clinician_a,
            json={"patient_id": world.patient_1, "message": {"text": "Dose is 5 mg"}},
        )
    )  # fmt: skip
    fhir: FhirGateway = app.state.fhir
    sender = Party("user", world.clinician_a.id, display="Clinician A")
    written = [
        await fhir.create(
            build_message(
                MessageRecord(
                    uuid=uuid4(), header_fhir_id=started["fhir_id"], patient_id=world.patient_1,
                    sender=sender, sent=datetime.now(UTC) + timedelta(seconds=offset), text=text,
                )
            )
        )
        for offset, text in ((1, "Dose is \u202e05 mg"), (2, "A clean reply"))
    ]  # fmt: skip
    bad_id = str(written[0].id)

    first = await run_parley("reproject", env=reproject_env(settings))
    listed = await run_parley("reproject", "--failed", env=reproject_env(settings))
    thread = await ok(
        await call(
            client, "GET", f"/api/v1/conversations/{started['id']}/messages", world.clinician_a
        )
    )
    put_right = Communication.model_validate(
        written[0].model_dump() | {"payload": [{"contentString": "Dose is 05 mg"}]}
    )
    await fhir.update(put_right, if_match=str(written[0].meta.versionId))  # type: ignore[union-attr]
    # A later run whose window misses the resource still tries it again.
    second = await run_parley(
        "reproject", "--since", "2100-01-01T00:00:00Z", env=reproject_env(settings)
    )
    relisted = await run_parley("reproject", "--failed", env=reproject_env(settings))
    after = await ok(
        await call(
            client, "GET", f"/api/v1/conversations/{started['id']}/messages", world.clinician_a
        )
    )

    assert first.code == 0, first.stderr
    assert f"Communication/{bad_id}" in first.stderr
    assert "direction" in first.stderr
    assert f"Communication/{bad_id}" in listed.stdout
    assert [item["text"] for item in thread["items"]] == ["Dose is 5 mg", "A clean reply"]
    assert second.code == 0, second.stderr
    assert "0 resources wait" in relisted.stdout
    assert [item["text"] for item in after["items"]] == [
        "Dose is 5 mg", "Dose is 05 mg", "A clean reply",
    ]  # fmt: skip
