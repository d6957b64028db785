"""Staff, organisations, memberships and team groups are FHIR resources another system
can follow from any message: created FHIR-first, kept up to date, and filled in for data
that predates them by `parley publish-directory`."""

from typing import Any

import httpx
import pytest
from fhir.resources.R4B.communication import Communication
from fhir.resources.R4B.group import Group
from fhir.resources.R4B.organization import Organization
from fhir.resources.R4B.practitioner import Practitioner
from fhir.resources.R4B.practitionerrole import PractitionerRole
from sqlalchemy import text

from app.config import Settings
from app.db import create_engine
from app.fhir.resources import USER_SYSTEM
from tests.support.auth import Account
from tests.support.fhir import fhir_gateway
from tests.support.processes import parley_environment, run_parley
from tests.support.world import World, build_world, call, ok

pytestmark = pytest.mark.usefixtures("fhir_url")


async def send(client: httpx.AsyncClient, world: World, words: str) -> dict[str, Any]:
    started: dict[str, Any] = await ok(
        await call(
            client, "POST", "/api/v1/conversations", world.clinician_a,
            json={"patient_id": world.patient_1, "participant_ids": [world.nurse_a.id],
                  "message": {"text": words}},
        )
    )  # fmt: skip
    thread = await ok(
        await call(client, "GET", f"/api/v1/conversations/{started['id']}/messages", world.nurse_a)
    )
    return dict(thread["items"][0])


async def sender_of(settings: Settings, fhir_id: str) -> dict[str, Any]:
    async with fhir_gateway(settings) as fhir:
        message = (await fhir.read(Communication, fhir_id)).model_dump(mode="json")
    return dict(message["sender"])


async def read(settings: Settings, model: Any, reference: str) -> dict[str, Any]:
    async with fhir_gateway(settings) as fhir:
        found = await fhir.read(model, reference.split("/", 1)[1])
    return dict(found.model_dump(mode="json"))


async def found(settings: Settings, model: Any, param: str, value: str) -> list[dict[str, Any]]:
    async with fhir_gateway(settings) as fhir:
        return [item.model_dump(mode="json") async for item in fhir.search(model, [(param, value)])]


async def test_a_sender_is_a_practitioner_any_client_can_read_and_search_by(
    client: httpx.AsyncClient, admin: Account, settings: Settings
) -> None:
    world = await build_world(client, admin)
    message = await send(client, world, "Bloods due")

    sender = await sender_of(settings, message["fhir_id"])
    assert sender["reference"].startswith("Practitioner/")
    assert sender["identifier"] == {"system": USER_SYSTEM, "value": str(world.clinician_a.id)}
    practitioner = await read(settings, Practitioner, sender["reference"])
    assert practitioner["active"] is True
    assert practitioner["name"][0]["text"] == message["sender"]["name"]
    async with fhir_gateway(settings) as fhir:
        found = [
            item.id async for item in fhir.search(Communication, [("sender", sender["reference"])])
        ]
    assert message["fhir_id"] in found

    # Kept up to date: a new name and a deactivation reach the same resource.
    user = f"/api/v1/users/{world.clinician_a.id}"
    await ok(await call(client, "PATCH", user, admin, json={"full_name": "Dr Ada Renamed"}))
    await ok(await call(client, "POST", f"{user}/deactivate", admin))
    practitioner = await read(settings, Practitioner, sender["reference"])
    assert practitioner["name"][0]["text"] == "Dr Ada Renamed"
    assert practitioner["active"] is False


async def test_memberships_and_groups_follow_the_directory(
    client: httpx.AsyncClient, admin: Account, settings: Settings
) -> None:
    world = await build_world(client, admin)
    await ok(
        await call(
            client, "POST", "/api/v1/groups", admin,
            json={"name": "Renal team", "organisation_id": world.org_a,
                  "member_ids": [world.clinician_a.id, world.nurse_a.id]},
        )
    )  # fmt: skip
    message = await send(client, world, "Who is on call?")
    practitioner = (await sender_of(settings, message["fhir_id"]))["reference"]

    teams = await found(settings, Group, "member", practitioner)
    roles = await found(settings, PractitionerRole, "practitioner", practitioner)
    assert [team["name"] for team in teams] == ["Renal team"]
    assert [role["active"] for role in roles] == [True]
    organisation = await read(settings, Organization, roles[0]["organization"]["reference"])
    assert organisation["active"] is True
    assert organisation["name"] == "Riverside Practice"

    # Leaving the organisation ends the role and takes them out of its groups, in FHIR too.
    await ok(
        await call(
            client, "DELETE",
            f"/api/v1/organisations/{world.org_a}/staff/{world.clinician_a.id}", admin,
        )
    )  # fmt: skip
    ended = await read(settings, PractitionerRole, f"PractitionerRole/{roles[0]['id']}")
    assert ended["active"] is False
    assert await found(settings, Group, "member", practitioner) == []


async def test_publish_directory_fills_in_what_existed_before(
    client: httpx.AsyncClient, admin: Account, settings: Settings
) -> None:
    world = await build_world(client, admin)
    engine = create_engine(settings.database_url)
    try:  # as a database from before Parley published its directory
        async with engine.begin() as connection:
            await connection.execute(text("UPDATE users SET fhir_practitioner_id = NULL"))
            await connection.execute(text("UPDATE organisations SET fhir_id = NULL"))
            await connection.execute(text("UPDATE groups SET fhir_id = NULL"))
    finally:
        await engine.dispose()
    before = await send(client, world, "Sent before publishing")
    assert "reference" not in await sender_of(settings, before["fhir_id"])

    env = parley_environment(
        PARLEY_DATABASE_URL=settings.database_url, PARLEY_FHIR_URL=settings.fhir_url
    )
    first = await run_parley("publish-directory", env=env)
    again = await run_parley("publish-directory", env=env)

    assert first.code == 0, first.stderr
    assert again.code == 0, again.stderr
    assert first.stdout.splitlines()[-1] == again.stdout.splitlines()[-1]
    assert "practitioners" in first.stdout
    assert "organisations" in first.stdout
    after = await send(client, world, "Sent after publishing")
    sender = await sender_of(settings, after["fhir_id"])
    assert sender["reference"].startswith("Practitioner/")
    practitioner = await read(settings, Practitioner, sender["reference"])
    assert practitioner["name"][0]["text"] == after["sender"]["name"]
    roles = await found(settings, PractitionerRole, "practitioner", sender["reference"])
    assert [role["active"] for role in roles] == [True]
