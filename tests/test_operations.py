"""What operators get: Prometheus metrics when asked for, and logs that hold no secrets."""

import logging
from collections.abc import Iterator

import httpx
import pytest

from app.config import Settings
from app.logs import configure_logging
from app.main import create_app
from tests.support.app import running_client
from tests.support.auth import Account, code_at, create_user, login
from tests.support.conversations import Thread, send
from tests.support.world import call, ok


async def test_metrics_are_off_unless_enabled(client: httpx.AsyncClient) -> None:
    assert (await client.get("/metrics")).status_code == 404


async def test_metrics_show_requests_by_route_and_open_streams(
    settings: Settings, admin: Account
) -> None:
    enabled = settings.model_copy(update={"metrics_enabled": True})

    async with running_client(create_app(enabled)) as client:
        await client.get("/api/v1/auth/me", headers=admin.headers)
        await client.get("/api/v1/users/12345", headers=admin.headers)
        text = (await client.get("/metrics")).text

    me_count = "parley_http_request_duration_seconds_count"
    assert f'{me_count}{{method="GET",route="/api/v1/auth/me",status="200"}} 1.0' in text
    assert 'route="/api/v1/users/{user_id}",status="404"' in text
    assert "parley_sse_connections 0.0" in text
    assert "parley_reconciler_lag_seconds" in text
    assert "12345" not in text


@pytest.mark.usefixtures("fhir_url")
async def test_fhir_calls_are_measured(settings: Settings, thread: Thread) -> None:
    enabled = settings.model_copy(update={"metrics_enabled": True})

    async with running_client(create_app(enabled)) as client:
        await send(client, thread, thread.world.clinician_a, "measured")
        text = (await client.get("/metrics")).text

    if settings.fhir_url != "embedded":
        assert (
            'parley_fhir_request_duration_seconds_count{method="POST",outcome="201",resource_type="Communication"}'
            in text
        )


class Collected(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def service_logs() -> Iterator[Collected]:
    """Logging configured as `parley serve` does, at DEBUG, written where the test can read."""
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    configure_logging(level="DEBUG", log_format="json")
    collected = Collected()
    collected.setFormatter(root.handlers[0].formatter)
    for handler in root.handlers[0].filters:
        collected.addFilter(handler)
    root.addHandler(collected)
    yield collected
    root.handlers[:] = saved[1]
    root.setLevel(saved[0])


async def test_logs_hold_no_passwords_codes_tokens_or_message_text(
    client: httpx.AsyncClient, thread: Thread, admin: Account, service_logs: Collected
) -> None:
    secret_text = "The biopsy shows carcinoma"
    user = await login(client, await create_user(client, admin, "logged_user"))
    setup = await ok(await call(client, "POST", "/api/v1/auth/totp/setup", user))
    code = code_at(setup["secret"])
    await ok(await call(client, "POST", "/api/v1/auth/totp/enable", user, json={"code": code}))
    await client.post(
        "/api/v1/auth/login", json={"username": "logged_user", "password": "wrong password!"}
    )
    refreshed = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": user.refresh_token}
    )
    await send(client, thread, thread.world.clinician_a, secret_text)

    logged = "\n".join(service_logs.lines)
    assert '"route": "/api/v1/conversations/{conversation_id}/messages"' in logged
    for secret in (
        user.password, "wrong password!", code, setup["secret"], user.access_token,
        user.refresh_token, refreshed.json()["access_token"], secret_text,
    ):  # fmt: skip
        assert secret not in logged
