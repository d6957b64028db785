"""Every answer tells browsers to treat it as data; CORS is closed unless configured."""

import httpx
import pytest

from app.config import Settings
from app.main import create_app
from tests.support.app import running_client
from tests.support.auth import Account

EXPECTED = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", "/health"),
        ("GET", "/api/v1/auth/me"),
        ("GET", "/api/v1/nowhere"),
        ("POST", "/api/v1/auth/login"),
    ],
)
async def test_every_response_carries_the_security_headers(
    client: httpx.AsyncClient, method: str, url: str
) -> None:
    response = await client.request(method, url, json={})

    for name, value in EXPECTED.items():
        assert response.headers[name] == value
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"
    assert "strict-transport-security" in response.headers


async def test_the_docs_page_may_load_swagger_but_not_be_framed(client: httpx.AsyncClient) -> None:
    response = await client.get("/docs")

    policy = response.headers["content-security-policy"]
    assert "https://cdn.jsdelivr.net" in policy
    assert "frame-ancestors 'none'" in policy


async def test_cors_is_closed_by_default(client: httpx.AsyncClient) -> None:
    preflight = await client.options(
        "/api/v1/auth/login",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    simple = await client.get("/health", headers={"Origin": "https://evil.example"})

    assert "access-control-allow-origin" not in preflight.headers
    assert "access-control-allow-origin" not in simple.headers


async def test_cors_allows_exactly_the_configured_origins(
    settings: Settings, admin: Account
) -> None:
    configured = settings.model_copy(update={"cors_origins": ["https://portal.example"]})

    async with running_client(create_app(configured)) as client:
        allowed = await client.options(
            "/api/v1/auth/login",
            headers={"Origin": "https://portal.example", "Access-Control-Request-Method": "POST"},
        )
        refused = await client.get("/health", headers={"Origin": "https://evil.example"})

    assert allowed.headers["access-control-allow-origin"] == "https://portal.example"
    assert "access-control-allow-origin" not in refused.headers


async def test_pages_run_only_their_own_script(client: httpx.AsyncClient) -> None:
    page = await client.get("/login")
    missing = await client.get("/no/such/page")

    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")
