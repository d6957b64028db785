"""The world the permission matrix is played in: one actor for each combination that matters.

Around patient P1 of organisation A: two conversations started by clinician A,
C (with the patient, and with both grantees and the soon-demoted clinician
taking part) and C2 (clinicians only); team group G of organisation A.
"""

import itertools
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.support.auth import Account, create_user
from tests.support.conversations import start_conversation
from tests.support.world import World, add_staff, build_world, call, ok, staff_member

ACTORS = (
    "superadmin",  # made as `parley create-admin` makes one
    "admin",  # an admin of no organisation
    "clinician_a",  # consultant of A, started C and C2
    "colleague_a",  # consultant of A taking part in neither (the care team)
    "nurse_a",  # of A, may read records but not message patients
    "clinician_b",  # consultant of B only
    "patient_1",  # P1's portal login, taking part in C
    "patient_2",  # P2's portal login
    "grant_message",  # outside A, a `message` grant for P1, taking part in C
    "grant_read",  # outside A, a `read` grant for P1, taking part in C
    "grant_read_outside",  # outside A, a `read` grant for P1, taking part in nothing
    "external_none",  # outside A, no grant
    "demoted",  # a consultant of A taking part in C, then demoted to the patient level
)

_names = itertools.count()


@dataclass
class MatrixWorld:
    base: World
    root: Account
    actors: dict[str, Account]
    conversation: int  # C
    clinicians_only: int  # C2
    group: int  # G
    features_off: tuple[str, ...] = ()
    spare: list[int] = field(default_factory=list)

    def url(self, conversation_id: int | None = None) -> str:
        return f"/api/v1/conversations/{conversation_id or self.conversation}"


async def throwaway_staff(
    client: httpx.AsyncClient, root: Account, organisation_id: int | None = None
) -> Account:
    user = await create_user(client, root, f"throwaway_{next(_names)}")
    if organisation_id is not None:
        await add_staff(client, root, organisation_id, user)
    return user


async def grant(
    client: httpx.AsyncClient, root: Account, patient_id: str, user: Account, level: str
) -> None:
    url = f"/api/v1/patients/{patient_id}/access-grants"
    await ok(
        await call(client, "POST", url, root, json={"user_id": user.id, "access_level": level})
    )


async def add_to(
    client: httpx.AsyncClient, world: World, conversation_id: int, user: Account
) -> None:
    url = f"/api/v1/conversations/{conversation_id}/participants"
    await ok(await call(client, "POST", url, world.clinician_a, json={"user_id": user.id}))


async def build_matrix_world(client: httpx.AsyncClient, root: Account) -> MatrixWorld:
    base = await build_world(client, root)
    colleague = await staff_member(client, root, "colleague_a", base.org_a)
    demoted = await staff_member(client, root, "demoted_a", base.org_a)
    grant_read = await staff_member(client, root, "grant_read", None)
    grant_read_outside = await staff_member(client, root, "grant_read_outside", None)
    await grant(client, root, base.patient_1, grant_read, "read")
    await grant(client, root, base.patient_1, grant_read_outside, "read")
    conversation = (await start_conversation(client, base, base.clinician_a, include_patient=True))[
        "id"
    ]
    for participant in (base.external_granted, grant_read, demoted):
        await add_to(client, base, conversation, participant)
    clinicians_only = (await start_conversation(client, base, base.clinician_a))["id"]
    await _demote(client, root, demoted)
    group = await ok(
        await call(
            client, "POST", "/api/v1/groups", root,
            json={"name": "Reception", "organisation_id": base.org_a,
                  "member_ids": [base.clinician_a.id]},
        )
    )  # fmt: skip
    actors = {
        "superadmin": root, "admin": base.admin, "clinician_a": base.clinician_a,
        "colleague_a": colleague, "nurse_a": base.nurse_a, "clinician_b": base.clinician_b,
        "patient_1": base.patient_1_user, "patient_2": base.patient_2_user,
        "grant_message": base.external_granted, "grant_read": grant_read,
        "grant_read_outside": grant_read_outside, "external_none": base.external_none,
        "demoted": demoted,
    }  # fmt: skip
    return MatrixWorld(base, root, actors, conversation, clinicians_only, group["id"])


async def _demote(client: httpx.AsyncClient, root: Account, user: Account) -> None:
    body: dict[str, Any] = {"system_permissions": "patient"}
    await ok(await call(client, "PATCH", f"/api/v1/users/{user.id}", root, json=body))


async def switch(client: httpx.AsyncClient, world: MatrixWorld, key: str, *, on: bool) -> None:
    url = f"/api/v1/organisations/{world.base.org_a}/features/{key}"
    await ok(await call(client, "PUT" if on else "DELETE", url, world.root))
