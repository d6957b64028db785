"""A small world of organisations, staff and patients, built through the HTTP API."""

from dataclasses import dataclass
from typing import Any

import httpx

from tests.support.auth import Account, create_user, login


@dataclass
class World:
    org_a: int
    org_b: int
    admin: Account
    clinician_a: Account
    clinician_b: Account
    nurse_a: Account
    patient_1: str
    patient_2: str
    patient_1_user: Account
    patient_2_user: Account
    external_granted: Account
    external_none: Account
    conversation_id: int | None = None  # set by tests that start one


async def call(
    client: httpx.AsyncClient, method: str, url: str, account: Account, **kwargs: Any
) -> httpx.Response:
    return await client.request(method, url, headers=account.headers, **kwargs)


async def ok(response: httpx.Response) -> Any:
    assert response.status_code < 300, f"{response.request.url}: {response.text}"
    return response.json() if response.content else None


async def create_organisation(
    client: httpx.AsyncClient, admin: Account, name: str, *, features: tuple[str, ...] = ()
) -> int:
    body = {"name": name, "type": "gp_practice", "location": "Testville"}
    organisation_id: int = (
        await ok(await call(client, "POST", "/api/v1/organisations", admin, json=body))
    )["id"]
    for key in features:
        await ok(
            await call(
                client, "PUT", f"/api/v1/organisations/{organisation_id}/features/{key}", admin
            )
        )
    return organisation_id


async def add_staff(
    client: httpx.AsyncClient, admin: Account, organisation_id: int, user: Account
) -> None:
    url = f"/api/v1/organisations/{organisation_id}/staff/{user.id}"
    await ok(await call(client, "PUT", url, admin, json={"is_primary": True}))


async def create_patient(
    client: httpx.AsyncClient, creator: Account, organisation_id: int, family_name: str
) -> str:
    body = {"given_name": "Pat", "family_name": family_name, "organisation_id": organisation_id}
    patient_id: str = (
        await ok(await call(client, "POST", "/api/v1/patients", creator, json=body))
    )["id"]
    return patient_id


async def staff_member(
    client: httpx.AsyncClient,
    admin: Account,
    username: str,
    organisation_id: int | None,
    **fields: Any,
) -> Account:
    user = await create_user(client, admin, username, **fields)
    if organisation_id is not None:
        await add_staff(client, admin, organisation_id, user)
    return await login(client, user)


async def portal_user(
    client: httpx.AsyncClient, admin: Account, username: str, patient_id: str
) -> Account:
    user = await create_user(
        client, admin, username, system_permissions="patient", base_profession="patient",
        fhir_patient_id=patient_id,
    )  # fmt: skip
    return await login(client, user)


async def build_world(client: httpx.AsyncClient, root: Account) -> World:
    features = ("messaging", "patient_messaging", "attachments")
    org_a = await create_organisation(client, root, "Riverside Practice", features=features)
    org_b = await create_organisation(client, root, "Hilltop Clinic", features=features)
    admin = await staff_member(
        client, root, "org_admin", None, system_permissions="admin", base_profession="admin_staff"
    )
    clinician_a = await staff_member(client, root, "clinician_a", org_a)
    clinician_b = await staff_member(client, root, "clinician_b", org_b)
    nurse_a = await staff_member(
        client,
        root,
        "nurse_a",
        org_a,
        base_profession="nurse",
        removed_competencies=["message_patients"],
    )
    patient_1 = await create_patient(client, clinician_a, org_a, "Alpha")
    patient_2 = await create_patient(client, clinician_b, org_b, "Bravo")
    external_granted = await staff_member(client, root, "external_granted", None)
    await ok(
        await call(
            client, "POST", f"/api/v1/patients/{patient_1}/access-grants", root,
            json={"user_id": external_granted.id},
        )
    )  # fmt: skip
    return World(
        org_a=org_a,
        org_b=org_b,
        admin=admin,
        clinician_a=clinician_a,
        clinician_b=clinician_b,
        nurse_a=nurse_a,
        patient_1=patient_1,
        patient_2=patient_2,
        patient_1_user=await portal_user(client, root, "patient_one", patient_1),
        patient_2_user=await portal_user(client, root, "patient_two", patient_2),
        external_granted=external_granted,
        external_none=await staff_member(client, root, "external_none", None),
    )


async def team_group(
    client: httpx.AsyncClient, world: World, name: str, organisation_id: int, *members: int
) -> int:
    """A team group of the organisation, made by the world's admin: its id."""
    body = {"name": name, "organisation_id": organisation_id, "member_ids": list(members)}
    group = await ok(await call(client, "POST", "/api/v1/groups", world.admin, json=body))
    group_id: int = group["id"]
    return group_id
