"""Accounts and logins for tests, through the same code paths the CLI and API use."""

import time
from dataclasses import dataclass
from typing import Any

import httpx
import pyotp

from app.auth import service as auth_service
from app.auth.service import AuthContext
from app.config import Settings
from app.db import create_engine, create_sessionmaker

PASSWORD = "correct horse battery staple"


@dataclass
class Account:
    id: int
    username: str
    password: str
    access_token: str = ""
    refresh_token: str = ""
    totp_secret: str | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


async def create_superadmin(settings: Settings, username: str = "root") -> Account:
    """What `parley create-admin` does."""
    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            ctx = AuthContext.offline(session, settings, address="test")
            user = await auth_service.create_superadmin(
                ctx, username=username, email=f"{username}@example.org", password=PASSWORD,
                full_name=username.title(),
            )  # fmt: skip
            return Account(id=user.id, username=username, password=PASSWORD)
    finally:
        await engine.dispose()


async def login(
    client: httpx.AsyncClient, account: Account, *, totp_code: str | None = None
) -> Account:
    body: dict[str, Any] = {"username": account.username, "password": account.password}
    if totp_code is not None:
        body["totp_code"] = totp_code
    response = await client.post("/api/v1/auth/login", json=body)
    assert response.status_code == 200, response.text
    account.access_token = response.json()["access_token"]
    account.refresh_token = response.json()["refresh_token"]
    return account


async def create_user(
    client: httpx.AsyncClient, admin: Account, username: str, **fields: Any
) -> Account:
    body = {
        "username": username,
        "email": f"{username}@example.org",
        "full_name": username.replace("_", " ").title(),
        "password": PASSWORD,
        "system_permissions": "staff",
        "base_profession": "consultant",
    } | fields
    response = await client.post("/api/v1/users", json=body, headers=admin.headers)
    assert response.status_code == 201, response.text
    return Account(id=response.json()["id"], username=username, password=body["password"])


def code_at(secret: str, offset_steps: int = 0) -> str:
    """The TOTP code of the current time step, or of a neighbouring one."""
    return pyotp.TOTP(secret).at(time.time() + offset_steps * 30)


def wrong_code(secret: str) -> str:
    """A six-digit code that no step of the ±1 window accepts."""
    valid = {code_at(secret, offset) for offset in (-1, 0, 1, 2)}
    return next(
        code for code in ("000000", "111111", "222222", "333333", "444444") if code not in valid
    )
