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
from app.main import create_app
from tests.support.app import running_client
from tests.support.auth import Account
from tests.support.fhir import fhir_gateway
from tests.support.processes import free_port, parley_environment, run_parley
from tests.support.world import World, build_world, call, create_organisation, ok, staff_member

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


async def directory_ids(settings: Settings) -> list[str | None]:
    """The FHIR ids the rows hold, in a fixed order."""
    engine = create_engine(settings.database_url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text(
                    "SELECT fhir_practitioner_id FROM users WHERE system_permissions <> 'patient' "
                    "UNION ALL SELECT fhir_id FROM organisations "
                    "UNION ALL SELECT fhir_id FROM groups"
                )
            )
            return sorted((row[0] for row in rows), key=str)
    finally:
        await engine.dispose()


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
    published = await directory_ids(settings)
    again = await run_parley("publish-directory", env=env)

    assert first.code == 0, first.stderr
    assert again.code == 0, again.stderr
    assert None not in published
    assert await directory_ids(settings) == published, "a second run refreshes, never adds"
    assert "practitioners" in first.stdout
    assert "organisations" in first.stdout
    after = await send(client, world, "Sent after publishing")
    sender = await sender_of(settings, after["fhir_id"])
    assert sender["reference"].startswith("Practitioner/")
    practitioner = await read(settings, Practitioner, sender["reference"])
    assert practitioner["name"][0]["text"] == after["sender"]["name"]
    roles = await found(settings, PractitionerRole, "practitioner", sender["reference"])
    assert [role["active"] for role in roles] == [True]


async def test_taking_access_away_never_waits_for_fhir_and_adding_waits_for_it(
    client: httpx.AsyncClient, admin: Account, settings: Settings
) -> None:
    """With FHIR down, a deactivation and a removal from staff still happen (and FHIR
    catches up later); creating a user fails whole, leaving no account behind."""
    world = await build_world(client, admin)
    dead = settings.model_copy(
        update={
            "fhir_url": f"http://127.0.0.1:{free_port()}/fhir",
            "fhir_connect_timeout_seconds": 0.3,
        }
    )
    async with running_client(create_app(dead)) as down:
        deactivated = await call(
            down, "POST", f"/api/v1/users/{world.nurse_a.id}/deactivate", admin
        )
        removed = await call(
            down,
            "DELETE",
            f"/api/v1/organisations/{world.org_a}/staff/{world.clinician_a.id}",
            admin,
        )
        refused = await call(
            down, "POST", "/api/v1/users", admin,
            json={"username": "newcomer", "email": "newcomer@example.org",
                  "full_name": "New Comer", "password": "a long enough password 1",
                  "system_permissions": "staff", "base_profession": "nurse"},
        )  # fmt: skip
    nurse_login = await call(client, "GET", "/api/v1/auth/me", world.nurse_a)
    users = await ok(await call(client, "GET", "/api/v1/users?limit=200", admin))

    assert deactivated.status_code == 200, deactivated.text
    assert nurse_login.status_code == 401, "the deactivated nurse's sessions ended at once"
    assert removed.status_code == 204, removed.text
    assert refused.status_code == 503, refused.text
    assert "newcomer" not in [user["username"] for user in users["items"]]


async def test_an_organisation_that_leaves_leaves_its_roles_and_teams_inactive(
    client: httpx.AsyncClient, admin: Account, settings: Settings
) -> None:
    organisation = await create_organisation(client, admin, "Short-lived Clinic")
    member = await staff_member(client, admin, "short_lived", organisation)
    team = await ok(
        await call(
            client, "POST", "/api/v1/groups", admin,
            json={"name": "Night team", "organisation_id": organisation, "member_ids": [member.id]},
        )
    )  # fmt: skip
    practitioner = await found(settings, Group, "member", await practitioner_of(settings, member))
    assert [item["name"] for item in practitioner] == ["Night team"]

    deleted = await call(client, "DELETE", f"/api/v1/organisations/{organisation}", admin)

    assert deleted.status_code == 204, deleted.text
    reference = await practitioner_of(settings, member)
    roles = await found(settings, PractitionerRole, "practitioner", reference)
    teams = await found(settings, Group, "member", reference)
    assert [role["active"] for role in roles] == [False]
    assert [(group["name"], group["active"]) for group in teams] == [("Night team", False)]
    assert team["name"] == "Night team"


async def practitioner_of(settings: Settings, user: Account) -> str:
    engine = create_engine(settings.database_url)
    try:
        async with engine.connect() as connection:
            fhir_id = await connection.scalar(
                text("SELECT fhir_practitioner_id FROM users WHERE id = :id"), {"id": user.id}
            )
    finally:
        await engine.dispose()
    return f"Practitioner/{fhir_id}"
