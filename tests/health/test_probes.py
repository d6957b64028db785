import httpx
from fastapi import FastAPI

from app.config import Settings
from app.main import create_app
from tests.support.app import running_client


async def test_health_answers_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_reports_each_dependency(client: httpx.AsyncClient) -> None:
    response = await client.get("/ready")

    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "fhir": "ok"}}


async def test_ready_is_503_problem_when_the_database_is_unreachable(settings: Settings) -> None:
    # Nothing listens on port 1: the connection is refused at once.
    unreachable = settings.model_copy(
        update={"database_url": "postgresql+psycopg://nobody@127.0.0.1:1/nothing"}
    )
    app: FastAPI = create_app(unreachable)

    async with running_client(app) as client:
        response = await client.get("/ready")

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"].endswith("not-ready")
    assert body["checks"]["database"] == "unavailable"


async def test_ready_is_503_when_the_fhir_server_is_unreachable(settings: Settings) -> None:
    no_fhir = settings.model_copy(update={"fhir_url": "http://127.0.0.1:1/fhir"})

    async with running_client(create_app(no_fhir)) as client:
        response = await client.get("/ready")

    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "fhir": "unavailable"}
