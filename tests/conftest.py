import os
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from app.config import Settings
from app.fhir.factory import EMBEDDED
from app.main import create_app
from tests.support import hapi
from tests.support.app import running_client
from tests.support.auth import Account, create_superadmin, login
from tests.support.conversations import Thread, start_conversation
from tests.support.databases import DatabaseFactory, PostgresDatabases, SqliteDatabases
from tests.support.world import World, build_world

TEST_DATABASE_URL = os.environ.get("PARLEY_TEST_DATABASE_URL", "")


@pytest.fixture(scope="session")
async def databases(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[DatabaseFactory]:
    factory: DatabaseFactory
    if TEST_DATABASE_URL:
        factory = PostgresDatabases(Settings(database_url=TEST_DATABASE_URL).database_url)
    else:
        factory = SqliteDatabases(tmp_path_factory.mktemp("databases"))
    await factory.prepare()
    yield factory
    await factory.close()


@pytest.fixture
async def database_url(databases: DatabaseFactory) -> AsyncIterator[str]:
    """A migrated database of this test's own."""
    url = await databases.create()
    yield url
    await databases.drop(url)


@pytest.fixture
async def empty_database_url(databases: DatabaseFactory) -> AsyncIterator[str]:
    """A database with no schema at all."""
    url = await databases.create_empty()
    yield url
    await databases.drop(url)


@pytest.fixture(params=[EMBEDDED, pytest.param("hapi", marks=pytest.mark.hapi)])
def fhir_url(request: pytest.FixtureRequest) -> str:
    """`embedded`, or the base URL of the real HAPI server (started on first use).

    A test that names this fixture runs once on each; its app follows it.
    """
    if request.param == EMBEDDED:
        return EMBEDDED
    url: str = request.getfixturevalue("hapi_url")
    return url


@pytest.fixture
def settings(request: pytest.FixtureRequest, database_url: str) -> Settings:
    uses_fhir_backends = "fhir_url" in request.fixturenames
    return Settings(
        _env_file=None,
        environment="test",
        database_url=database_url,
        fhir_url=request.getfixturevalue("fhir_url") if uses_fhir_backends else EMBEDDED,
        # The cheapest argon2id the settings allow: tests hash many passwords.
        password_hash_memory_kib=8_192,
        password_hash_iterations=1,
        # No escalation pass during a test unless the test asks for one (tests/triage).
        notify_seconds=3600,
    )


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return create_app(settings)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with running_client(app) as client:
        yield client


@pytest.fixture(scope="session")
async def hapi_url() -> AsyncIterator[str]:
    """Base URL of a real HAPI FHIR server for this test run."""
    if given := os.environ.get("PARLEY_TEST_FHIR_URL"):
        yield given
        return
    if reason := hapi.missing_tools():
        hapi.skip_or_fail(reason)
    await hapi.build_jar()
    async with hapi.running_hapi() as url:
        yield url


@pytest.fixture
async def admin(settings: Settings, client: httpx.AsyncClient) -> Account:
    """A logged-in superadmin, made as `parley create-admin` makes one."""
    return await login(client, await create_superadmin(settings))


@pytest.fixture
async def world(client: httpx.AsyncClient, admin: Account) -> World:
    """Two organisations with staff, patients, portal logins and an external grant."""
    return await build_world(client, admin)


@pytest.fixture
async def thread(client: httpx.AsyncClient, world: World) -> Thread:
    """A conversation by clinician A about patient 1, who takes part."""
    started = await start_conversation(client, world, world.clinician_a, include_patient=True)
    return Thread(world, started["id"], f"/api/v1/conversations/{started['id']}")
