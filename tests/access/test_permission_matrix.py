"""Every actor against every action: the exact answer of each cell, through HTTP.

The target is patient P1 of organisation A. Whoever may not see P1 (or A)
gets 404 and learns nothing; whoever may see it but not do the thing gets 403.
"""

import itertools
from collections.abc import Awaitable, Callable

import httpx
import pytest

from tests.support.auth import Account, create_user
from tests.support.world import World, build_world, call, ok

Cell = Callable[[httpx.AsyncClient, World, Account, Account], Awaitable[str]]

ACTORS = [
    "superadmin", "admin", "clinician_a", "clinician_b", "nurse_a",
    "patient_1_user", "patient_2_user", "external_granted", "external_none",
]  # fmt: skip

# action ->       super  admin  clin_a clin_b nurse  P1     P2     ext+   ext-
EXPECTED = {
    "read_patient": ("200", "200", "200", "404", "200", "200", "404", "200", "404"),
    "list_patients": ("has", "has", "has", "hasn't", "has", "has", "hasn't", "has", "hasn't"),
    "create_patient": ("201", "201", "201", "404", "201", "403", "404", "404", "404"),
    "deactivate_patient": ("200", "200", "403", "404", "403", "403", "404", "403", "404"),
    "grant_access": ("201", "201", "403", "404", "403", "201", "404", "403", "404"),
    "revoke_access": ("204", "204", "403", "404", "403", "403", "404", "403", "404"),
    "read_organisation": ("200", "200", "200", "404", "200", "200", "404", "404", "404"),
    "update_organisation": ("200", "200", "403", "404", "403", "403", "404", "404", "404"),
    "switch_feature": ("200", "200", "403", "404", "403", "403", "404", "404", "404"),
    "manage_staff": ("200", "200", "403", "404", "403", "403", "404", "404", "404"),
    "start_conversation": ("403", "403", "201", "404", "403", "201", "404", "201", "404"),
    "read_conversation": ("404", "404", "200", "404", "200", "200", "404", "200", "404"),
}

_counter = itertools.count()


async def throwaway_staff(client: httpx.AsyncClient, root: Account) -> Account:
    return await create_user(client, root, f"throwaway_{next(_counter)}")


async def read_patient(
    client: httpx.AsyncClient, world: World, actor: Account, root: Account
) -> str:
    return str(
        (await call(client, "GET", f"/api/v1/patients/{world.patient_1}", actor)).status_code
    )


async def list_patients(
    client: httpx.AsyncClient, world: World, actor: Account, root: Account
) -> str:
    listed = await ok(await call(client, "GET", "/api/v1/patients", actor))
    return "has" if world.patient_1 in [item["id"] for item in listed["items"]] else "hasn't"


async def create_patient(
    client: httpx.AsyncClient, world: World, actor: Account, root: Account
) -> str:
    body = {"given_name": "New", "family_name": "Patient", "organisation_id": world.org_a}
    return str((await call(client, "POST", "/api/v1/patients", actor, json=body)).status_code)


async def deactivate_patient(
    client: httpx.AsyncClient, world: World, actor: Account, root: Account
) -> str:
    response = await call(client, "POST", f"/api/v1/patients/{world.patient_1}/deactivate", actor)
    await ok(await call(client, "POST", f"/api/v1/patients/{world.patient_1}/activate", root))
    return str(response.status_code)


async def grant_access(
    client: httpx.AsyncClient, world: World, actor: Account, root: Account
) -> str:
    grantee = await throwaway_staff(client, root)
    url = f"/api/v1/patients/{world.patient_1}/access-grants"
    return str((await call(client, "POST", url, actor, json={"user_id": grantee.id})).status_code)


async def revoke_access(
    client: httpx.AsyncClient, world: World, actor: Account, root: Account
) -> str:
    grantee = await throwaway_staff(client, root)
    url = f"/api/v1/patients/{world.patient_1}/access-grants"
    await ok(await call(client, "POST", url, root, json={"user_id": grantee.id}))
    return str((await call(client, "DELETE", f"{url}/{grantee.id}", actor)).status_code)


async def read_organisation(
    client: httpx.AsyncClient, world: World, actor: Account, root: Account
) -> str:
    return str(
        (await call(client, "GET", f"/api/v1/organisations/{world.org_a}", actor)).status_code
    )


async def update_organisation(
    client: httpx.AsyncClient, world: World, actor: Account, root: Account
) -> str:
    url = f"/api/v1/organisations/{world.org_a}"
    return str(
        (await call(client, "PATCH", url, actor, json={"location": "Riverside"})).status_code
    )


async def switch_feature(
    client: httpx.AsyncClient, world: World, actor: Account, root: Account
) -> str:
    url = f"/api/v1/organisations/{world.org_a}/features/messaging"
    return str((await call(client, "PUT", url, actor)).status_code)


async def manage_staff(
    client: httpx.AsyncClient, world: World, actor: Account, root: Account
) -> str:
    newcomer = await throwaway_staff(client, root)
    url = f"/api/v1/organisations/{world.org_a}/staff/{newcomer.id}"
    return str((await call(client, "PUT", url, actor, json={"is_primary": False})).status_code)


async def start_conversation(
    client: httpx.AsyncClient, world: World, actor: Account, root: Account
) -> str:
    body = {"patient_id": world.patient_1, "message": {"text": "About your results"}}
    return str((await call(client, "POST", "/api/v1/conversations", actor, json=body)).status_code)


async def read_conversation(
    client: httpx.AsyncClient, world: World, actor: Account, root: Account
) -> str:
    if world.conversation_id is None:
        body = {"patient_id": world.patient_1, "include_patient": True, "message": {"text": "Hi"}}
        started = await ok(
            await call(client, "POST", "/api/v1/conversations", world.clinician_a, json=body)
        )
        world.conversation_id = started["id"]
    url = f"/api/v1/conversations/{world.conversation_id}"
    return str((await call(client, "GET", url, actor)).status_code)


CELLS: dict[str, Cell] = {
    "read_patient": read_patient,
    "list_patients": list_patients,
    "create_patient": create_patient,
    "deactivate_patient": deactivate_patient,
    "grant_access": grant_access,
    "revoke_access": revoke_access,
    "read_organisation": read_organisation,
    "update_organisation": update_organisation,
    "switch_feature": switch_feature,
    "manage_staff": manage_staff,
    "start_conversation": start_conversation,
    "read_conversation": read_conversation,
}


@pytest.mark.usefixtures("fhir_url")
async def test_permission_matrix(client: httpx.AsyncClient, admin: Account) -> None:
    world = await build_world(client, admin)
    actors = {"superadmin": admin} | {name: getattr(world, name) for name in ACTORS[1:]}

    actual = {
        action: tuple([await cell(client, world, actors[name], admin) for name in ACTORS])
        for action, cell in CELLS.items()
    }

    mismatches = {
        f"{action} by {name}": (expected, got)
        for action in EXPECTED
        for name, expected, got in zip(ACTORS, EXPECTED[action], actual[action], strict=True)
        if expected != got
    }
    assert mismatches == {}


async def test_an_unseen_patient_answers_404_with_no_details(
    client: httpx.AsyncClient, admin: Account
) -> None:
    world = await build_world(client, admin)

    unseen = await call(client, "GET", f"/api/v1/patients/{world.patient_1}", world.clinician_b)
    missing = await call(client, "GET", "/api/v1/patients/does-not-exist", world.clinician_b)

    assert unseen.status_code == missing.status_code == 404
    assert unseen.json()["detail"] == missing.json()["detail"]
    assert world.patient_1 not in unseen.text


async def test_a_revoked_grant_stops_working_on_the_next_request(
    client: httpx.AsyncClient, admin: Account
) -> None:
    world = await build_world(client, admin)
    url = f"/api/v1/patients/{world.patient_1}"
    before = await call(client, "GET", url, world.external_granted)

    revoked = await call(
        client, "DELETE", f"{url}/access-grants/{world.external_granted.id}", admin
    )
    after = await call(client, "GET", url, world.external_granted)
    again = await call(client, "DELETE", f"{url}/access-grants/{world.external_granted.id}", admin)

    assert before.status_code == 200
    assert revoked.status_code == 204
    assert after.status_code == 404
    assert again.status_code == 404
