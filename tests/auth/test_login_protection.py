"""Throttling, user enumeration and account state at login."""

import asyncio
from typing import Any, Literal

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI

from app.config import Settings
from app.main import create_app
from tests.support.app import running_client
from tests.support.auth import Account, create_superadmin, create_user, login, wrong_code


def attempt(username: str, password: str) -> dict[str, str]:
    return {"username": username, "password": password}


def comparable(response: httpx.Response) -> tuple[int, dict[str, Any], list[str]]:
    """Everything a caller sees, but for the request id that differs per request."""
    headers = sorted(
        name for name in response.headers if name not in ("x-request-id", "content-length")
    )
    return response.status_code, response.json(), headers


class CountingHasher(PasswordHasher):
    def __init__(self, hasher: PasswordHasher) -> None:
        super().__init__(
            time_cost=hasher.time_cost, memory_cost=hasher.memory_cost,
            parallelism=hasher.parallelism, type=hasher.type,
        )  # fmt: skip
        self.verifications = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        self.verifications += 1
        return super().verify(hash, password)


async def test_unknown_user_and_wrong_password_look_the_same_and_cost_the_same(
    app: FastAPI, client: httpx.AsyncClient, admin: Account
) -> None:
    await create_user(client, admin, "nurse_bea", base_profession="nurse")
    counting = CountingHasher(app.state.password_hasher)
    app.state.password_hasher = counting

    unknown = await client.post("/api/v1/auth/login", json=attempt("nobody_here", "x" * 12))
    verifications_for_unknown = counting.verifications
    wrong = await client.post("/api/v1/auth/login", json=attempt("nurse_bea", "x" * 12))

    assert comparable(unknown) == comparable(wrong)
    assert unknown.status_code == 401
    assert unknown.json()["type"].endswith("invalid-credentials")
    # One argon2id verification each: an unknown user is not answered faster.
    assert verifications_for_unknown == 1
    assert counting.verifications == 2


async def test_a_deactivated_user_cannot_log_in_and_is_told_nothing_more(
    client: httpx.AsyncClient, admin: Account
) -> None:
    user = await create_user(client, admin, "leaver")
    await client.post(f"/api/v1/users/{user.id}/deactivate", headers=admin.headers)

    response = await client.post("/api/v1/auth/login", json=attempt("leaver", user.password))
    wrong = await client.post("/api/v1/auth/login", json=attempt("leaver", "not the password"))

    assert comparable(response) == comparable(wrong)


@pytest.fixture
def strict_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "login_failures_per_account_and_address": 3,
            "login_failures_per_address": 5,
            "login_failures_per_account": 6,
            "login_throttle_window_seconds": 2,
        }
    )


async def test_failures_per_account_are_throttled_for_one_window_only(
    strict_settings: Settings,
) -> None:
    user = await create_superadmin(strict_settings, "target")
    async with running_client(create_app(strict_settings)) as client:
        failures = [
            await client.post("/api/v1/auth/login", json=attempt("target", "wrong password"))
            for _ in range(3)
        ]
        locked = await client.post("/api/v1/auth/login", json=attempt("target", user.password))
        await asyncio.sleep(2.1)
        after_window = await client.post(
            "/api/v1/auth/login", json=attempt("target", user.password)
        )

    assert [response.status_code for response in failures] == [401, 401, 401]
    assert locked.status_code == 429
    assert locked.headers["content-type"] == "application/problem+json"
    assert 1 <= int(locked.headers["retry-after"]) <= 2
    assert after_window.status_code == 200


async def test_a_success_resets_the_account_counter(strict_settings: Settings) -> None:
    user = await create_superadmin(strict_settings, "forgetful")
    async with running_client(create_app(strict_settings)) as client:
        statuses = []
        for password in ("wrong 1", "wrong 2", user.password, "wrong 3", "wrong 4"):
            response = await client.post("/api/v1/auth/login", json=attempt("forgetful", password))
            statuses.append(response.status_code)
        still_open = await client.post(
            "/api/v1/auth/login", json=attempt("forgetful", user.password)
        )

    assert statuses == [401, 401, 200, 401, 401]
    assert still_open.status_code == 200


async def test_failures_from_one_address_are_throttled_across_accounts(
    strict_settings: Settings,
) -> None:
    user = await create_superadmin(strict_settings, "bystander")
    async with running_client(create_app(strict_settings)) as client:
        for number in range(5):
            await client.post("/api/v1/auth/login", json=attempt(f"guess{number}", "password1"))
        blocked = await client.post("/api/v1/auth/login", json=attempt("bystander", user.password))

    assert blocked.status_code == 429


async def test_wrong_totp_codes_count_towards_the_account_limit(
    strict_settings: Settings,
) -> None:
    user = await create_superadmin(strict_settings, "mfa_user")
    async with running_client(create_app(strict_settings)) as client:
        account = await login(client, user)
        setup = await client.post("/api/v1/auth/totp/setup", headers=account.headers)
        wrong = {"code": wrong_code(setup.json()["secret"])}
        bad = [
            await client.post("/api/v1/auth/totp/enable", json=wrong, headers=account.headers)
            for _ in range(3)
        ]
        blocked = await client.post("/api/v1/auth/totp/enable", json=wrong, headers=account.headers)

    assert setup.status_code == 200
    assert {response.json()["type"].rsplit(":", 1)[1] for response in bad} <= {"totp-invalid"}
    assert blocked.status_code == 429


@pytest.fixture
def behind_a_proxy(strict_settings: Settings) -> Settings:
    """The in-process client connects from 127.0.0.1: here, a trusted proxy."""
    return strict_settings.model_copy(update={"trusted_proxies": ["127.0.0.1"]})


def from_address(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


async def test_a_stranger_cannot_lock_a_clinician_out_from_the_clinicians_own_address(
    behind_a_proxy: Settings,
) -> None:
    user = await create_superadmin(behind_a_proxy, "clinician")
    async with running_client(create_app(behind_a_proxy)) as client:
        guesses = [
            await client.post(
                "/api/v1/auth/login", json=attempt("clinician", f"guess {number}"),
                headers=from_address("203.0.113.7"),
            )
            for number in range(4)
        ]  # fmt: skip
        own = await client.post(
            "/api/v1/auth/login", json=attempt("clinician", user.password),
            headers=from_address("198.51.100.20"),
        )  # fmt: skip

    assert [response.status_code for response in guesses] == [401, 401, 401, 429]
    assert own.status_code == 200


async def test_guesses_from_many_addresses_meet_the_account_ceiling(
    behind_a_proxy: Settings,
) -> None:
    user = await create_superadmin(behind_a_proxy, "popular")
    async with running_client(create_app(behind_a_proxy)) as client:
        for number in range(6):
            await client.post(
                "/api/v1/auth/login", json=attempt("popular", "wrong"),
                headers=from_address(f"203.0.113.{number}"),
            )  # fmt: skip
        ceiling = await client.post(
            "/api/v1/auth/login", json=attempt("popular", user.password),
            headers=from_address("198.51.100.20"),
        )  # fmt: skip

    assert ceiling.status_code == 429


async def test_x_forwarded_for_from_an_untrusted_client_changes_nothing(
    strict_settings: Settings,
) -> None:
    """Without PARLEY_TRUSTED_PROXIES a client cannot pick the address throttling counts."""
    await create_superadmin(strict_settings, "sprayed")
    async with running_client(create_app(strict_settings)) as client:
        statuses = [
            (
                await client.post(
                    "/api/v1/auth/login", json=attempt(f"someone{number}", "wrong"),
                    headers=from_address(f"203.0.113.{number}"),
                )
            ).status_code
            for number in range(6)
        ]  # fmt: skip

    assert statuses == [401, 401, 401, 401, 401, 429]


async def test_the_audit_log_records_the_address_a_trusted_proxy_vouches_for(
    behind_a_proxy: Settings, strict_settings: Settings
) -> None:
    for settings, expected in ((behind_a_proxy, "198.51.100.20"), (strict_settings, "127.0.0.1")):
        root = await create_superadmin(settings, f"root_{len(expected)}")
        async with running_client(create_app(settings)) as client:
            login = await client.post(
                "/api/v1/auth/login", json=attempt(root.username, root.password),
                headers=from_address("198.51.100.20"),
            )  # fmt: skip
            token = login.json()["access_token"]
            rows = await client.get(
                "/api/v1/audit", params={"action": "auth.login", "user_id": root.id},
                headers={"Authorization": f"Bearer {token}"},
            )  # fmt: skip

        assert {row["client_address"] for row in rows.json()["items"]} == {expected}
