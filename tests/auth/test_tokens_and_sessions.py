"""Access tokens are checked against the database on every request; sessions can be ended."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest

from app.auth.tokens import AccessClaims, issue_access_token
from app.config import Settings
from tests.support.auth import Account, create_user, login


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_no_token_is_a_401_problem_with_a_challenge(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/auth/me")

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["content-type"] == "application/problem+json"


async def test_an_expired_token_is_refused(
    client: httpx.AsyncClient, admin: Account, settings: Settings
) -> None:
    me = (await client.get("/api/v1/auth/me", headers=admin.headers)).json()
    claims = jwt.decode(admin.access_token, options={"verify_signature": False})
    expired = issue_access_token(
        AccessClaims(user_id=me["id"], session_id=claims["sid"], token_version=claims["ver"]),
        secret=settings.secret_key.get_secret_value(),
        algorithm=settings.jwt_algorithm,
        now=datetime.now(UTC) - timedelta(hours=1),
        lifetime=timedelta(minutes=15),
    )

    response = await client.get("/api/v1/auth/me", headers=bearer(expired))

    assert response.status_code == 401
    assert response.json()["type"].endswith("invalid-token")


@pytest.mark.parametrize("algorithm", ["HS256", "none"])
async def test_a_token_not_signed_with_our_key_is_refused(
    client: httpx.AsyncClient, admin: Account, algorithm: str
) -> None:
    claims = jwt.decode(admin.access_token, options={"verify_signature": False})
    key = "someone else's key of a decent length!!" if algorithm != "none" else ""
    forged = jwt.encode(claims, key, algorithm=algorithm)

    response = await client.get("/api/v1/auth/me", headers=bearer(forged))

    assert response.status_code == 401


async def test_a_garbage_token_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/auth/me", headers=bearer("not.a.jwt"))

    assert response.status_code == 401


async def test_changing_the_password_ends_every_session(
    client: httpx.AsyncClient, admin: Account
) -> None:
    user = await create_user(client, admin, "mover")
    laptop = await login(client, user)
    phone = await login(client, replace(user))

    changed = await client.post(
        "/api/v1/auth/password",
        json={"current_password": user.password, "new_password": "a brand new passphrase"},
        headers=laptop.headers,
    )

    assert changed.status_code == 204
    for device in (laptop, phone):
        assert (await client.get("/api/v1/auth/me", headers=device.headers)).status_code == 401
    old = await client.post(
        "/api/v1/auth/login", json={"username": "mover", "password": user.password}
    )
    assert old.status_code == 401
    await login(client, replace(user, password="a brand new passphrase"))


async def test_a_password_change_needs_the_current_password_and_a_good_new_one(
    client: httpx.AsyncClient, admin: Account
) -> None:
    user = await login(client, await create_user(client, admin, "careful"))

    wrong = await client.post(
        "/api/v1/auth/password",
        json={"current_password": "not it at all", "new_password": "a brand new passphrase"},
        headers=user.headers,
    )
    common = await client.post(
        "/api/v1/auth/password",
        json={"current_password": user.password, "new_password": "password123"},
        headers=user.headers,
    )

    assert wrong.status_code == 401
    assert common.status_code == 422
    assert common.json()["errors"][0]["loc"] == ["body", "new_password"]
    assert (await client.get("/api/v1/auth/me", headers=user.headers)).status_code == 200


async def test_sessions_are_listed_and_can_be_ended_one_by_one(
    client: httpx.AsyncClient, admin: Account
) -> None:
    user = await create_user(client, admin, "two_devices")
    laptop = await login(client, user)
    phone = await login(client, replace(user))

    listed = await client.get("/api/v1/auth/sessions", headers=laptop.headers)
    current = [item for item in listed.json() if item["current"]]
    other = [item for item in listed.json() if not item["current"]]
    ended = await client.delete(f"/api/v1/auth/sessions/{other[0]['id']}", headers=laptop.headers)

    assert len(listed.json()) == 2
    assert len(current) == 1
    assert ended.status_code == 204
    assert (await client.get("/api/v1/auth/me", headers=phone.headers)).status_code == 401
    assert (await client.get("/api/v1/auth/me", headers=laptop.headers)).status_code == 200


async def test_someone_elses_session_is_not_found(
    client: httpx.AsyncClient, admin: Account
) -> None:
    user = await login(client, await create_user(client, admin, "curious"))
    admin_sessions = (await client.get("/api/v1/auth/sessions", headers=admin.headers)).json()

    response = await client.delete(
        f"/api/v1/auth/sessions/{admin_sessions[0]['id']}", headers=user.headers
    )

    assert response.status_code == 404
    assert (await client.get("/api/v1/auth/me", headers=admin.headers)).status_code == 200


async def test_an_unknown_refresh_token_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/auth/refresh", json={"refresh_token": "x" * 43})

    assert response.status_code == 401
    assert response.json()["type"].endswith("invalid-token")
