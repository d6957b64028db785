"""Every page but sign-in sends an anonymous visitor to sign in; sign-in never leaves the site."""

import re

import httpx
import pytest
from fastapi.routing import APIRoute

from app.config import Settings
from app.web.site import PAGE_ROUTERS
from tests.support.auth import create_superadmin

PUBLIC = {"/login", "/login/totp"}


def page_routes() -> list[tuple[str, str]]:
    return sorted(
        (method, route.path)
        for router in PAGE_ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute) and route.path not in PUBLIC
        for method in route.methods or ()
    )


async def test_every_page_sends_an_anonymous_visitor_to_sign_in(client: httpx.AsyncClient) -> None:
    routes = page_routes()
    answers = {}
    for method, path in routes:
        concrete = re.sub(
            r"\{(\w+)\}", lambda match: "messaging" if match.group(1) == "key" else "1", path
        )
        response = await client.request(method, concrete, data={"csrf_token": "x"})
        answers[(method, path)] = (response.status_code, response.headers.get("location", ""))

    assert len(routes) >= 25
    wrong = {
        route: answer
        for route, answer in answers.items()
        if answer[0] != 303 or not answer[1].startswith("/login")
    }
    assert wrong == {}


async def test_the_sign_in_page_is_public_and_sets_no_session(client: httpx.AsyncClient) -> None:
    response = await client.get("/login")

    assert response.status_code == 200
    assert "parley_session" not in response.headers.get("set-cookie", "")
    assert "httponly" in response.headers["set-cookie"].lower()
    assert "samesite=strict" in response.headers["set-cookie"].lower()


async def test_a_sign_in_form_without_its_token_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post("/login", data={"username": "admin", "password": "whatever12"})

    assert response.status_code == 403
    assert "parley_session" not in response.headers.get("set-cookie", "")


@pytest.mark.parametrize(
    "target", ["//evil.example/", "/\\evil.example/", "https://evil.example/", "/\tevil"]
)
async def test_signing_in_never_sends_the_browser_off_the_site(
    settings: Settings, client: httpx.AsyncClient, target: str
) -> None:
    account = await create_superadmin(settings)
    await client.get("/login")

    response = await client.post(
        "/login",
        data={
            "username": account.username,
            "password": account.password,
            "login_csrf": client.cookies["parley_login_csrf"],
            "next": target,
        },
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert "parley_session" in response.headers["set-cookie"]
