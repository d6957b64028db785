"""Every failure answers problem+json, names the fields at fault, and leaks nothing."""

import httpx
from fastapi import FastAPI
from pydantic import BaseModel, Field

from tests.support.app import running_client


class Probe(BaseModel):
    name: str = Field(min_length=1)
    count: int


def add_probe_routes(app: FastAPI) -> None:
    # Routes of the test's own, to drive the app's error handlers from outside.
    @app.post("/api/v1/probe")
    async def probe(body: Probe) -> Probe:
        return body

    @app.get("/api/v1/explode")
    async def explode() -> None:
        raise RuntimeError("secret internal detail /srv/parley/app.py line 42")


async def test_unknown_route_is_a_404_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/no/such/route")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "urn:parley:problem:not-found"
    assert response.json()["status"] == 404


async def test_wrong_method_is_a_405_problem(client: httpx.AsyncClient) -> None:
    response = await client.delete("/health")

    assert response.status_code == 405
    assert response.json()["type"].endswith("method-not-allowed")


async def test_invalid_body_names_each_field_and_never_echoes_values(app: FastAPI) -> None:
    add_probe_routes(app)
    async with running_client(app) as client:
        response = await client.post("/api/v1/probe", json={"name": "", "password": "hunter2"})

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"].endswith("validation-error")
    assert {tuple(error["loc"]) for error in body["errors"]} == {
        ("body", "name"),
        ("body", "count"),
    }
    assert "hunter2" not in response.text
    assert "body.name" in body["detail"]


async def test_malformed_json_is_a_422_problem(app: FastAPI) -> None:
    add_probe_routes(app)
    async with running_client(app) as client:
        response = await client.post(
            "/api/v1/probe", content=b"{not json", headers={"content-type": "application/json"}
        )

    assert response.status_code == 422
    assert response.json()["type"].endswith("validation-error")


async def test_unexpected_error_is_a_500_problem_without_internals(app: FastAPI) -> None:
    add_probe_routes(app)
    async with running_client(app) as client:
        response = await client.get("/api/v1/explode")

    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("internal-error")
    assert "secret internal detail" not in response.text
    assert "Traceback" not in response.text
