"""Broken object level authorisation: every id in every path, tried by those who may not see it.

They get 404, with the same answer as for an id that does not exist, and ids
walked one after another reveal nothing either.
"""

import re

import httpx

from tests.support.auth import Account
from tests.support.conversations import Thread
from tests.support.media import png
from tests.support.world import call, ok


async def ids_of_organisation_a(
    client: httpx.AsyncClient, thread: Thread, admin: Account
) -> dict[str, str]:
    world = thread.world
    group = await ok(
        await call(
            client, "POST", "/api/v1/groups", admin,
            json={"name": "Ward", "organisation_id": world.org_a,
                  "member_ids": [world.clinician_a.id]},
        )
    )  # fmt: skip
    attachment = await ok(
        await client.post(
            f"{thread.url}/messages", files={"file": ("a.png", png(), "image/png")},
            headers=world.clinician_a.headers,
        )
    )  # fmt: skip
    sessions = await ok(await call(client, "GET", "/api/v1/auth/sessions", world.clinician_a))
    return {
        "organisation_id": str(world.org_a),
        "patient_id": world.patient_1,
        "conversation_id": str(thread.id),
        "group_id": str(group["id"]),
        "attachment_id": str(attachment["id"]),
        "session_id": str(sessions[0]["id"]),
        "user_id": str(world.clinician_a.id),
        "key": "messaging",
    }


def fill(path: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda match: ids[match.group(1)], path)


async def test_every_id_route_tells_an_outsider_nothing(
    client: httpx.AsyncClient, thread: Thread, admin: Account
) -> None:
    """A real id of organisation A answers an outsider exactly as an id that exists nowhere."""
    real = await ids_of_organisation_a(client, thread, admin)
    nowhere = dict.fromkeys(real, "987654") | {
        "patient_id": "no-such-patient",
        "key": "messaging",
    }
    document = (await client.get("/openapi.json")).json()
    outsiders = [thread.world.clinician_b, thread.world.patient_2_user]
    answers: dict[tuple[str, str, str], tuple[int, int]] = {}

    for path, operations in document["paths"].items():
        if "{" not in path:
            continue
        for method in operations:
            for outsider in outsiders:
                body: dict[str, object] | None = {} if method in ("post", "put", "patch") else None
                statuses = []
                for ids in (real, nowhere):
                    concrete = fill(path, ids)
                    response = await call(client, method.upper(), concrete, outsider, json=body)
                    assert thread.world.patient_1 not in response.text
                    statuses.append(response.status_code)
                answers[(method, path, outsider.username)] = (statuses[0], statuses[1])

    telling = {key: pair for key, pair in answers.items() if pair[0] != pair[1]}
    assert telling == {}
    assert len(answers) >= 60
    # Nearly everything is a plain 404; the rest (user administration) is refused by role alone.
    assert sum(pair[0] == 404 for pair in answers.values()) >= len(answers) * 3 // 4


async def test_walking_conversation_and_attachment_ids_finds_nothing_else(
    client: httpx.AsyncClient, thread: Thread
) -> None:
    outsider = thread.world.clinician_b
    missing = await call(client, "GET", "/api/v1/conversations/999999", outsider)

    for number in range(1, thread.id + 5):
        conversation = await call(client, "GET", f"/api/v1/conversations/{number}", outsider)
        thread_page = await call(
            client, "GET", f"/api/v1/conversations/{number}/messages", outsider
        )
        attachment = await call(client, "GET", f"/api/v1/attachments/{number}", outsider)
        assert conversation.status_code == thread_page.status_code == attachment.status_code == 404
        assert conversation.json()["detail"] == missing.json()["detail"]
