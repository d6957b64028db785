"""Deny by default: every route but the public ones refuses an anonymous caller."""

import re

import httpx

PUBLIC = {
    ("GET", "/health"),
    ("GET", "/ready"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/refresh"),
}


async def served_operations(client: httpx.AsyncClient) -> set[tuple[str, str]]:
    """Every operation the app serves, from its own OpenAPI document."""
    document = (await client.get("/openapi.json")).json()
    return {(method.upper(), path) for path, item in document["paths"].items() for method in item}


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


async def test_every_non_public_route_answers_401_to_an_anonymous_caller(
    client: httpx.AsyncClient,
) -> None:
    operations = await served_operations(client)

    answers = {
        (method, path): (await client.request(method, concrete(path), json={})).status_code
        for method, path in sorted(operations - PUBLIC)
    }

    assert operations >= PUBLIC
    assert len(answers) >= 30
    assert {operation: status for operation, status in answers.items() if status != 401} == {}


async def test_the_public_routes_answer_without_a_token(client: httpx.AsyncClient) -> None:
    health = await client.get("/health")
    login = await client.post("/api/v1/auth/login", json={"username": "x", "password": "y"})

    assert health.status_code == 200
    assert login.status_code == 401
    assert login.json()["type"].endswith("invalid-credentials")
