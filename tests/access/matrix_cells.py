"""One cell of the matrix: an actor tries one thing through HTTP; the answer, in short.

Answers are the status code, except two refusals told apart by their problem
type: `off` (403 feature-disabled) and `own` (403: nobody raises their own
access). A cell that changes shared state puts it back.
"""

from collections.abc import Awaitable, Callable

import httpx

from app.access.actions import Action
from tests.access.matrix_world import MatrixWorld, throwaway_staff
from tests.support.auth import Account
from tests.support.media import png
from tests.support.world import call, ok
from tests.web.pages import browser_sign_in

Cell = Callable[[httpx.AsyncClient, MatrixWorld, Account], Awaitable[str]]


def answer(response: httpx.Response) -> str:
    if response.status_code == 403:
        kind = response.json().get("type", "")
        if kind.endswith("feature-disabled"):
            return "off"
        if kind.endswith("own-access"):
            return "own"
    return str(response.status_code)


async def open_administration(client: httpx.AsyncClient, w: MatrixWorld, actor: Account) -> str:
    await browser_sign_in(client, actor)
    page = await client.get("/admin")
    client.cookies.clear()
    return str(page.status_code)


async def read_audit(client: httpx.AsyncClient, w: MatrixWorld, actor: Account) -> str:
    return answer(await call(client, "GET", "/api/v1/audit", actor))


async def create_user(client: httpx.AsyncClient, w: MatrixWorld, actor: Account) -> str:
    body = {
        "username": f"made_by_{actor.username}", "email": f"made_by_{actor.username}@example.org",
        "full_name": "Made By", "password": "correct horse battery staple",
        "system_permissions": "staff", "base_profession": "nurse",
    }  # fmt: skip
    return answer(await call(client, "POST", "/api/v1/users", actor, json=body))


async def list_users(client: httpx.AsyncClient, w: MatrixWorld, actor: Account) -> str:
    return answer(await call(client, "GET", "/api/v1/users", actor))


async def read_user(client: httpx.AsyncClient, w: MatrixWorld, actor: Account) -> str:
    url = f"/api/v1/users/{w.actors['clinician_a'].id}"
    return answer(await call(client, "GET", url, actor))


async def manage_user(client: httpx.AsyncClient, w: MatrixWorld, actor: Account) -> str:
    url = f"/api/v1/users/{w.actors['nurse_a'].id}"
    return answer(await call(client, "PATCH", url, actor, json={"full_name": "Nurse A"}))


async def set_access(client: httpx.AsyncClient, w: MatrixWorld, actor: Account) -> str:
    someone = await throwaway_staff(client, w.root)
    body = {"additional_competencies": ["prescribe"]}
    return answer(await call(client, "PATCH", f"/api/v1/users/{someone.id}", actor, json=body))


async def set_own_access(client: httpx.AsyncClient, w: MatrixWorld, actor: Account) -> str:
    body = {"additional_competencies": ["view_patient_record", "message_patients"]}
    return answer(await call(client, "PATCH", f"/api/v1/users/{actor.id}", actor, json=body))


async def create_organisation(client: httpx.AsyncClient, w: MatrixWorld, actor: Account) -> str:
    body = {"name": "Elsewhere", "type": "clinic"}
    return answer(await call(client, "POST", "/api/v1/organisations", actor, json=body))


async def read_organisation(client: httpx.AsyncClient, w: MatrixWorld, actor: Account) -> str:
    return answer(await call(client, "GET", f"/api/v1/organisations/{w.base.org_a}", actor))


async def update_organisation(client: httpx.AsyncClient, w: MatrixWorld, actor: Account) -> str:
    url = f"/api/v1/organisations/{w.base.org_a}"
    return answer(await call(client, "PATCH", url, actor, json={"location": "Riverside"}))


async def delete_organisation(client: httpx.AsyncClient, w: MatrixWorld, actor: Account) -> str:
    body = {"name": "Short-lived", "type": "clinic"}
    made = await ok(await call(client, "POST", "/api/v1/organisations", w.root, json=body))
    return answer(await call(client, "DELETE", f"/api/v1/organisations/{made['id']}", actor))


async def add_staff(client: httpx.AsyncClient, w: MatrixWorld, actor: Account) -> str:
    someone = await throwaway_staff(client, w.root)
    url = f"/api/v1/organisations/{w.base.org_a}/staff/{someone.id}"
    return answer(await call(client, "PUT", url, actor, json={"is_primary": False}))


async def add_self_to_staff(client: httpx.AsyncClient, w: MatrixWorld, actor: Account) -> str:
    url = f"/api/v1/organisations/{w.base.org_a}/staff/{actor.id}"
    return answer(await call(client, "PUT", url, actor, json={"is_primary": False}))


async def add_patient(client: httpx.AsyncClient, w: MatrixWorld, actor: Account) -> str:
    """An existing patient of B into A (a new one each time: the world must not change)."""
    body = {"given_name": "Moving", "family_name": "Patient", "organisation_id": w.base.org_b}
    moving = await ok(await call(client, "POST", "/api/v1/patients", w.root, json=body))
    url = f"/api/v1/organisations/{w.base.org_a}/patients/{moving['id']}"
    return answer(await call(client, "PUT", url, actor, json={"is_primary": False}))


async def remove_staff(client: httpx.AsyncClient, w: MatrixWorld, actor: Account) -> str:
    someone = await throwaway_staff(client, w.root, w.base.org_a)
    url = f"/api/v1/organisations/{w.base.org_a}/staff/{someone.id}"
    return answer(await call(client, "DELETE", url, actor))


async def switch_feature(client: httpx.AsyncClient, w: MatrixWorld, actor: Account) -> str:
    url = f"/api/v1/organisations/{w.base.org_a}/features/messaging"
    return answer(await call(client, "PUT", url, actor))


async def create_group(client: httpx.AsyncClient, w: MatrixWorld, actor: Account) -> str:
    body = {"name": f"Team of {actor.username}", "organisation_id": w.base.org_a}
    return answer(await call(client, "POST", "/api/v1/groups", actor, json=body))


async def read_group(client: httpx.AsyncClient, w: MatrixWorld, actor: Account) -> str:
    return answer(await call(client, "GET", f"/api/v1/groups/{w.group}", actor))


async def manage_group(client: httpx.AsyncClient, w: MatrixWorld, actor: Account) -> str:
    url = f"/api/v1/groups/{w.group}"
    return answer(await call(client, "PATCH", url, actor, json={"description": "Front desk"}))


async def add_group_member(client: httpx.AsyncClient, w: MatrixWorld, actor: Account) -> str:
    someone = await throwaway_staff(client, w.root, w.base.org_a)
    url = f"/api/v1/groups/{w.group}/members/{someone.id}"
    return answer(await call(client, "PUT", url, actor))


async def add_self_to_group(client: httpx.AsyncClient, w: MatrixWorld, actor: Account) -> str:
    return answer(await call(client, "PUT", f"/api/v1/groups/{w.group}/members/{actor.id}", actor))


async def create_patient(client: httpx.AsyncClient, w: MatrixWorld, actor: Account) -> str:
    body = {"given_name": "New", "family_name": "Patient", "organisation_id": w.base.org_a}
    return answer(await call(client, "POST", "/api/v1/patients", actor, json=body))


async def read_patient(client: httpx.AsyncClient, w: MatrixWorld, actor: Account) -> str:
    return answer(await call(client, "GET", f"/api/v1/patients/{w.base.patient_1}", actor))


async def list_patients(client: httpx.AsyncClient, w: MatrixWorld, actor: Account) -> str:
    listed = await ok(await call(client, "GET", "/api/v1/patients", actor))
    return "yes" if w.base.patient_1 in [item["id"] for item in listed["items"]] else "no"


async def deactivate_patient(client: httpx.AsyncClient, w: MatrixWorld, actor: Account) -> str:
    url = f"/api/v1/patients/{w.base.patient_1}"
    response = await call(client, "POST", f"{url}/deactivate", actor)
    await ok(await call(client, "POST", f"{url}/activate", w.root))
    return answer(response)


async def grant_access(client: httpx.AsyncClient, w: MatrixWorld, actor: Account) -> str:
    someone = await throwaway_staff(client, w.root)
    url = f"/api/v1/patients/{w.base.patient_1}/access-grants"
    return answer(await call(client, "POST", url, actor, json={"user_id": someone.id}))


async def grant_access_to_self(client: httpx.AsyncClient, w: MatrixWorld, actor: Account) -> str:
    url = f"/api/v1/patients/{w.base.patient_1}/access-grants"
    return answer(await call(client, "POST", url, actor, json={"user_id": actor.id}))


async def revoke_access(client: httpx.AsyncClient, w: MatrixWorld, actor: Account) -> str:
    someone = await throwaway_staff(client, w.root)
    url = f"/api/v1/patients/{w.base.patient_1}/access-grants"
    await ok(await call(client, "POST", url, w.root, json={"user_id": someone.id}))
    return answer(await call(client, "DELETE", f"{url}/{someone.id}", actor))


async def invite_to_conversation(client: httpx.AsyncClient, w: MatrixWorld, actor: Account) -> str:
    """Whether the actor may be named a participant: whether they may read P1's messages."""
    body = {
        "patient_id": w.base.patient_1, "participant_ids": [actor.id],
        "message": {"text": "Could you look at this?"},
    }  # fmt: skip
    clinician = w.actors["clinician_a"]
    return answer(await call(client, "POST", "/api/v1/conversations", clinician, json=body))


async def start_conversation(client: httpx.AsyncClient, w: MatrixWorld, actor: Account) -> str:
    body = {"patient_id": w.base.patient_1, "message": {"text": "About your results"}}
    return answer(await call(client, "POST", "/api/v1/conversations", actor, json=body))


async def read_conversation(client: httpx.AsyncClient, w: MatrixWorld, actor: Account) -> str:
    return answer(await call(client, "GET", w.url(), actor))


async def inbox_shows_conversation(
    client: httpx.AsyncClient, w: MatrixWorld, actor: Account
) -> str:
    """The inbox filters with the same rule a single read decides by (the `organisation`
    view: everything the caller may read)."""
    params = {"limit": 200, "view": "organisation"}
    listed = await ok(await call(client, "GET", "/api/v1/conversations", actor, params=params))
    return "yes" if w.conversation in [item["id"] for item in listed["items"]] else "no"


async def read_clinicians_only(client: httpx.AsyncClient, w: MatrixWorld, actor: Account) -> str:
    return answer(await call(client, "GET", w.url(w.clinicians_only), actor))


async def write(client: httpx.AsyncClient, w: MatrixWorld, actor: Account) -> str:
    body = {"text": f"From {actor.username}"}
    return answer(await call(client, "POST", f"{w.url()}/messages", actor, json=body))


async def attach(client: httpx.AsyncClient, w: MatrixWorld, actor: Account) -> str:
    files = {"file": ("rash.png", png(), "image/png")}
    return answer(await call(client, "POST", f"{w.url()}/messages", actor, files=files))


async def close(client: httpx.AsyncClient, w: MatrixWorld, actor: Account) -> str:
    response = await call(client, "PATCH", w.url(), actor, json={"status": "closed"})
    if response.status_code == 200:
        await ok(
            await call(client, "PATCH", w.url(), w.actors["clinician_a"], json={"status": "active"})
        )
    return answer(response)


async def add_participant(client: httpx.AsyncClient, w: MatrixWorld, actor: Account) -> str:
    someone = await throwaway_staff(client, w.root, w.base.org_a)
    url = f"{w.url()}/participants"
    return answer(await call(client, "POST", url, actor, json={"user_id": someone.id}))


async def join(client: httpx.AsyncClient, w: MatrixWorld, actor: Account) -> str:
    """In a conversation of its own (joining changes who takes part), with the patient."""
    if "messaging" in w.features_off:
        target = w.conversation  # nobody joins anything: C stays as it is
    else:
        body = {"patient_id": w.base.patient_1, "include_patient": True, "message": {"text": "Hi"}}
        started = await call(
            client, "POST", "/api/v1/conversations", w.actors["clinician_a"], json=body
        )
        target = (await ok(started))["id"]
    return answer(await call(client, "POST", f"{w.url(target)}/join", actor))


# Each row of the matrix, and the action of the table it proves.
ROWS: dict[str, tuple[Action, Cell]] = {
    "open_administration": (Action.ADMINISTRATION_OPEN, open_administration),
    "read_audit": (Action.AUDIT_READ, read_audit),
    "create_user": (Action.USER_CREATE, create_user),
    "list_users": (Action.USER_LIST, list_users),
    "read_user": (Action.USER_READ, read_user),
    "manage_user": (Action.USER_MANAGE, manage_user),
    "set_access": (Action.USER_SET_ACCESS, set_access),
    "set_own_access": (Action.USER_SET_ACCESS, set_own_access),
    "create_organisation": (Action.ORGANISATION_CREATE, create_organisation),
    "read_organisation": (Action.ORGANISATION_READ, read_organisation),
    "update_organisation": (Action.ORGANISATION_UPDATE, update_organisation),
    "delete_organisation": (Action.ORGANISATION_DELETE, delete_organisation),
    "add_staff": (Action.ORGANISATION_ADD_STAFF, add_staff),
    "add_self_to_staff": (Action.ORGANISATION_ADD_STAFF, add_self_to_staff),
    "add_patient": (Action.ORGANISATION_ADD_PATIENT, add_patient),
    "remove_staff": (Action.ORGANISATION_MANAGE_MEMBERS, remove_staff),
    "switch_feature": (Action.ORGANISATION_MANAGE_FEATURES, switch_feature),
    "create_group": (Action.GROUP_CREATE, create_group),
    "read_group": (Action.GROUP_READ, read_group),
    "manage_group": (Action.GROUP_MANAGE, manage_group),
    "add_group_member": (Action.GROUP_ADD_MEMBER, add_group_member),
    "add_self_to_group": (Action.GROUP_ADD_MEMBER, add_self_to_group),
    "create_patient": (Action.PATIENT_CREATE, create_patient),
    "read_patient": (Action.PATIENT_READ, read_patient),
    "list_patients": (Action.PATIENT_READ, list_patients),
    "deactivate_patient": (Action.PATIENT_MANAGE, deactivate_patient),
    "grant_access": (Action.PATIENT_GRANT_ACCESS, grant_access),
    "grant_access_to_self": (Action.PATIENT_GRANT_ACCESS, grant_access_to_self),
    "revoke_access": (Action.PATIENT_REVOKE_ACCESS, revoke_access),
    "invite_to_conversation": (Action.PATIENT_READ_MESSAGES, invite_to_conversation),
    "start_conversation": (Action.PATIENT_MESSAGE, start_conversation),
    "read_conversation": (Action.CONVERSATION_READ, read_conversation),
    "inbox_lists_it": (Action.CONVERSATION_READ, inbox_shows_conversation),
    "read_clinicians_only": (Action.CONVERSATION_READ, read_clinicians_only),
    "write": (Action.CONVERSATION_WRITE, write),
    "attach": (Action.CONVERSATION_ATTACH, attach),
    "close": (Action.CONVERSATION_CHANGE_STATUS, close),
    "add_participant": (Action.CONVERSATION_ADD_PARTICIPANT, add_participant),
    "join": (Action.CONVERSATION_JOIN, join),
}
