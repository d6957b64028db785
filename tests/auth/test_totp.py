"""TOTP set-up, storage and removal."""

import httpx
from sqlalchemy import select

from app.accounts.models import User
from app.config import Settings
from app.db import create_engine, create_sessionmaker
from tests.support.auth import Account, code_at, create_user, login, wrong_code


async def stored_user(settings: Settings, user_id: int) -> User:
    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            user = await session.scalar(select(User).where(User.id == user_id))
            assert user is not None
            return user
    finally:
        await engine.dispose()


async def test_the_secret_is_stored_encrypted(
    client: httpx.AsyncClient, admin: Account, settings: Settings
) -> None:
    setup = await client.post("/api/v1/auth/totp/setup", headers=admin.headers)

    user = await stored_user(settings, admin.id)

    assert user.totp_secret_encrypted is not None
    assert setup.json()["secret"].encode() not in user.totp_secret_encrypted
    assert user.totp_enabled is False


async def test_enabling_needs_setup_first_and_a_valid_code(
    client: httpx.AsyncClient, admin: Account
) -> None:
    before_setup = await client.post(
        "/api/v1/auth/totp/enable", json={"code": "123456"}, headers=admin.headers
    )
    secret = (await client.post("/api/v1/auth/totp/setup", headers=admin.headers)).json()["secret"]
    wrong = await client.post(
        "/api/v1/auth/totp/enable", json={"code": wrong_code(secret)}, headers=admin.headers
    )
    malformed = await client.post(
        "/api/v1/auth/totp/enable", json={"code": "12ab56"}, headers=admin.headers
    )
    me = await client.get("/api/v1/auth/me", headers=admin.headers)

    assert before_setup.status_code == 409
    assert wrong.status_code == 401
    assert malformed.status_code == 422
    assert malformed.json()["errors"][0]["loc"] == ["body", "code"]
    assert me.json()["totp_enabled"] is False


async def test_disabling_needs_the_password_and_a_fresh_code(
    client: httpx.AsyncClient, admin: Account
) -> None:
    user = await login(client, await create_user(client, admin, "two_factor"))
    secret = (await client.post("/api/v1/auth/totp/setup", headers=user.headers)).json()["secret"]
    await client.post(
        "/api/v1/auth/totp/enable", json={"code": code_at(secret)}, headers=user.headers
    )

    again = await client.post("/api/v1/auth/totp/setup", headers=user.headers)
    without_password = await client.post(
        "/api/v1/auth/totp/disable",
        json={"password": "not my password", "code": code_at(secret, 1)},
        headers=user.headers,
    )
    replayed_code = await client.post(
        "/api/v1/auth/totp/disable",
        json={"password": user.password, "code": code_at(secret)},
        headers=user.headers,
    )
    disabled = await client.post(
        "/api/v1/auth/totp/disable",
        json={"password": user.password, "code": code_at(secret, 1)},
        headers=user.headers,
    )

    assert again.status_code == 409
    assert without_password.status_code == 401
    assert replayed_code.status_code == 401
    assert disabled.status_code == 204
    assert (await client.get("/api/v1/auth/me", headers=user.headers)).json()[
        "totp_enabled"
    ] is False
    await login(client, user)  # no code needed any more


async def test_an_admin_reset_turns_totp_off_and_ends_the_users_sessions(
    client: httpx.AsyncClient, admin: Account
) -> None:
    user = await login(client, await create_user(client, admin, "lost_phone"))
    secret = (await client.post("/api/v1/auth/totp/setup", headers=user.headers)).json()["secret"]
    await client.post(
        "/api/v1/auth/totp/enable", json={"code": code_at(secret)}, headers=user.headers
    )

    reset = await client.post(f"/api/v1/users/{user.id}/totp/reset", headers=admin.headers)

    assert reset.status_code == 200
    assert reset.json()["totp_enabled"] is False
    assert (await client.get("/api/v1/auth/me", headers=user.headers)).status_code == 401
    await login(client, user)
