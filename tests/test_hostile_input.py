"""Hostile input: too big, too deep, not UTF-8, too long, smuggled fields. Always a 4xx."""

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.support.auth import Account
from tests.support.conversations import Thread
from tests.support.world import World, call


async def test_an_oversized_json_body_is_413_before_it_is_read(
    client: httpx.AsyncClient, admin: Account
) -> None:
    body = b'{"name": "' + b"x" * (2 * 1024 * 1024) + b'", "type": "clinic"}'

    response = await client.post(
        "/api/v1/organisations", content=body,
        headers=admin.headers | {"content-type": "application/json"},
    )  # fmt: skip

    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"


async def test_an_oversized_body_without_a_length_is_stopped_while_read(
    client: httpx.AsyncClient, admin: Account
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"name": "'
        for _ in range(40):
            yield b"y" * 65536
        yield b'"}'

    response = await client.post(
        "/api/v1/organisations", content=chunks(),
        headers=admin.headers | {"content-type": "application/json"},
    )  # fmt: skip

    assert response.status_code == 413


async def test_deeply_nested_json_is_refused_before_parsing(
    client: httpx.AsyncClient, admin: Account
) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    shallow = b'{"name": [[[["x"]]]], "type": "clinic"}'
    headers = admin.headers | {"content-type": "application/json"}

    too_deep = await client.post("/api/v1/organisations", content=deep, headers=headers)
    fine_but_wrong = await client.post("/api/v1/organisations", content=shallow, headers=headers)

    assert too_deep.status_code == 400
    assert fine_but_wrong.status_code == 422


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"text": "\xff\xfe caf\xe9"}', id="invalid-utf8"),
        pytest.param(b'{"text": "unterminated', id="truncated"),
        pytest.param(b"\x00\x01\x02", id="binary"),
        pytest.param(b'{"text": "\\ud800"}', id="lone-surrogate"),
    ],
)
async def test_malformed_bodies_are_4xx_and_never_5xx(
    client: httpx.AsyncClient, thread: Thread, body: bytes
) -> None:
    response = await client.post(
        f"{thread.url}/messages", content=body,
        headers=thread.world.clinician_a.headers | {"content-type": "application/json"},
    )  # fmt: skip

    assert 400 <= response.status_code < 500
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/conversations?patient_id=" + "p" * 20_000,
        "/api/v1/conversations?cursor=" + "c" * 20_000,
        "/api/v1/conversations?" + "&".join(f"x{n}=1" for n in range(3000)),
        "/api/v1/patients/" + "a" * 5000,
        "/api/v1/conversations/99999999999999999999999999",
        "/api/v1/attachments/-1",
    ],
)
async def test_very_long_or_absurd_urls_are_4xx(
    client: httpx.AsyncClient, world: World, url: str
) -> None:
    response = await call(client, "GET", url, world.clinician_a)

    assert 400 <= response.status_code < 500


async def test_ids_beyond_any_column_are_404_or_422_never_5xx(
    client: httpx.AsyncClient, admin: Account
) -> None:
    huge = 2**70
    for url in (f"/api/v1/organisations/{huge}", f"/api/v1/users/{huge}", f"/api/v1/groups/{huge}"):
        response = await call(client, "GET", url, admin)
        assert response.status_code in (404, 422), url
    body = {"given_name": "A", "family_name": "B", "organisation_id": huge}
    assert (await call(client, "POST", "/api/v1/patients", admin, json=body)).status_code == 422


async def test_a_bad_request_id_is_replaced_not_echoed(client: httpx.AsyncClient) -> None:
    response = await client.get("/health", headers={"X-Request-ID": "<script>alert(1)</script>"})

    assert "<script>" not in response.headers["x-request-id"]
    assert len(response.headers["x-request-id"]) == 32


async def test_fields_nobody_may_set_are_refused(
    client: httpx.AsyncClient, world: World, admin: Account
) -> None:
    clinician = world.clinician_a
    own_level = await call(
        client,
        "PATCH",
        f"/api/v1/users/{clinician.id}",
        clinician,
        json={"system_permissions": "admin"},
    )
    patient_active = await call(
        client, "POST", "/api/v1/patients", admin,
        json={"given_name": "A", "family_name": "B", "organisation_id": world.org_a,
              "is_active": False},
    )  # fmt: skip
    organisation_id = await call(
        client,
        "PATCH",
        f"/api/v1/organisations/{world.org_a}",
        admin,
        json={"id": 999, "name": "Renamed"},
    )
    user_hash = await call(
        client,
        "PATCH",
        f"/api/v1/users/{clinician.id}",
        admin,
        json={"password_hash": "$argon2id$forged"},
    )

    assert own_level.status_code == 403
    assert patient_active.status_code == 422
    assert organisation_id.status_code == 422
    assert user_hash.status_code == 422
    me = await call(client, "GET", "/api/v1/auth/me", clinician)
    assert me.json()["system_permissions"] == "staff"
