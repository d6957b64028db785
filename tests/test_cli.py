"""The `parley` command, run as a separate process like a user runs it."""

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import inspect, select

from app import __version__
from app.accounts.models import SystemPermission, User
from app.config import Settings
from app.db import create_engine, create_sessionmaker
from app.main import create_app
from tests.support.app import running_client
from tests.support.auth import Account, login
from tests.support.processes import PARLEY, free_port, parley_environment, run_parley


async def test_version_prints_the_package_version() -> None:
    finished = await run_parley("version", env=parley_environment())

    assert finished.code == 0
    assert finished.stdout.strip() == __version__


async def test_migrate_creates_the_schema_on_an_empty_database(empty_database_url: str) -> None:
    env = parley_environment(PARLEY_DATABASE_URL=empty_database_url)

    first = await run_parley("migrate", env=env)
    again = await run_parley("migrate", env=env)

    assert first.code == 0, first.stderr
    assert "up to date" in first.stdout
    assert again.code == 0, again.stderr
    engine = create_engine(empty_database_url)
    try:
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
    finally:
        await engine.dispose()
    assert {"users", "conversations", "messages", "alembic_version"} <= set(tables)


async def load_user(database_url: str, username: str) -> User | None:
    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            return (await session.scalars(select(User).where(User.username == username))).first()
    finally:
        await engine.dispose()


async def test_create_admin_makes_a_superadmin_with_an_argon2id_hash(
    empty_database_url: str,
) -> None:
    env = parley_environment(PARLEY_DATABASE_URL=empty_database_url)

    finished = await run_parley(
        "create-admin", "--username", "root", "--email", "root@example.org",
        "--password", "a long enough passphrase", env=env,
    )  # fmt: skip

    assert finished.code == 0, finished.stderr
    assert "Created superadmin 'root'" in finished.stdout
    user = await load_user(empty_database_url, "root")
    assert user is not None
    assert user.system_permissions is SystemPermission.SUPERADMIN
    assert user.password_hash.startswith("$argon2id$")
    assert "a long enough passphrase" not in user.password_hash


async def test_create_admin_prompts_for_the_password_when_not_given(
    empty_database_url: str,
) -> None:
    env = parley_environment(PARLEY_DATABASE_URL=empty_database_url)

    finished = await run_parley(
        "create-admin", "--username", "root", "--email", "root@example.org",
        env=env, stdin="prompted passphrase\nprompted passphrase\n",
    )  # fmt: skip

    assert finished.code == 0, finished.stderr
    assert "prompted passphrase" not in finished.stdout
    assert await load_user(empty_database_url, "root") is not None


async def test_create_admin_refuses_a_duplicate_and_a_short_password(
    empty_database_url: str,
) -> None:
    env = parley_environment(PARLEY_DATABASE_URL=empty_database_url)
    create = ("create-admin", "--username", "root", "--email", "root@example.org")
    await run_parley(*create, "--password", "a long enough passphrase", env=env)

    duplicate = await run_parley(*create, "--password", "another long passphrase", env=env)
    short = await run_parley(
        "create-admin", "--username", "other", "--email", "other@example.org",
        "--password", "short", env=env,
    )  # fmt: skip

    assert duplicate.code == 1
    assert "already exists" in duplicate.stderr
    assert short.code == 1
    assert "8 to 128 characters" in short.stderr
    assert await load_user(empty_database_url, "other") is None


@pytest.fixture
async def served(empty_database_url: str) -> AsyncIterator[tuple[str, asyncio.subprocess.Process]]:
    """`parley serve` on a free port and an empty database, until it answers."""
    port = free_port()
    env = parley_environment(PARLEY_DATABASE_URL=empty_database_url, PARLEY_LOG_FORMAT="json")
    process = await asyncio.create_subprocess_exec(
        PARLEY,
        "serve", "--port", str(port), env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    base_url = f"http://127.0.0.1:{port}"
    try:
        await wait_until_serving(base_url)
        yield base_url, process
    finally:
        if process.returncode is None:
            process.terminate()
            await asyncio.wait_for(process.wait(), 30)


async def wait_until_serving(base_url: str) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(150):
            try:
                await client.get(f"{base_url}/health")
                return
            except httpx.TransportError:
                await asyncio.sleep(0.2)
    raise AssertionError("parley serve did not start within 30 s")


async def test_serve_migrates_then_serves_health_and_docs(
    served: tuple[str, asyncio.subprocess.Process],
) -> None:
    base_url, _ = served
    async with httpx.AsyncClient(base_url=base_url) as client:
        health = await client.get("/health")
        ready = await client.get("/ready")
        docs = await client.get("/docs")
        openapi = await client.get("/openapi.json")

    assert health.json() == {"status": "ok"}
    assert ready.status_code == 200
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()
    assert openapi.json()["info"]["title"] == "Parley"


async def test_serve_logs_one_json_line_per_request_with_its_request_id(
    served: tuple[str, asyncio.subprocess.Process],
) -> None:
    base_url, process = served
    request_id = "5f0e8a3c9d2b4c1e8f7a6b5c4d3e2f10"
    async with httpx.AsyncClient(base_url=base_url) as client:
        response = await client.get("/health", headers={"X-Request-ID": request_id})
    process.terminate()
    _, stderr = await asyncio.wait_for(process.communicate(), 30)

    assert response.headers["x-request-id"] == request_id
    lines = [json.loads(line) for line in stderr.decode().splitlines() if line.startswith("{")]
    access = [line for line in lines if line.get("request_id") == request_id]
    assert len(access) == 1, stderr.decode()
    assert access[0]["name"] == "parley.access"
    assert access[0]["route"] == "/health"
    assert access[0]["status"] == 200
    assert access[0]["duration_ms"] >= 0


async def test_seed_demo_fills_an_empty_database_with_working_logins(
    empty_database_url: str, settings: Settings
) -> None:
    env = parley_environment(PARLEY_DATABASE_URL=empty_database_url)

    seeded = await run_parley("seed-demo", env=env)
    again = await run_parley("seed-demo", env=env)
    if_empty = await run_parley("seed-demo", "--if-empty", env=env)

    assert seeded.code == 0, seeded.stderr
    assert "parley-demo-patel" in seeded.stdout
    assert "TOTP secret" in seeded.stdout
    assert again.code == 1
    assert "already has users" in again.stderr
    assert if_empty.code == 0
    assert "already there" in if_empty.stdout
    demo_settings = settings.model_copy(update={"database_url": empty_database_url})
    async with running_client(create_app(demo_settings)) as client:
        patel = await login(client, Account(0, "dr_patel", "parley-demo-patel"))
        alex = await login(client, Account(0, "alex", "parley-demo-alex"))
        me = (await client.get("/api/v1/auth/me", headers=patel.headers)).json()
        patients_for_patel = (await client.get("/api/v1/patients", headers=patel.headers)).json()
        patients_for_alex = (await client.get("/api/v1/patients", headers=alex.headers)).json()

    assert [organisation["name"] for organisation in me["organisations"]] == [
        "Riverside Health Centre"
    ]
    # Two Alex Smiths, told apart by birth date and NHS number.
    assert sorted(
        (p["family_name"], p["birth_date"], p["nhs_number"]) for p in patients_for_patel["items"]
    ) == [
        ("Smith", "1984-03-12", "9991112227"),
        ("Smith", "1992-07-30", "9992223332"),
        ("Taylor", "1958-11-02", "9993334448"),
    ]
    assert [p["birth_date"] for p in patients_for_alex["items"]] == ["1984-03-12"]


async def test_production_refuses_the_placeholder_canonical_base(empty_database_url: str) -> None:
    env = parley_environment(
        PARLEY_DATABASE_URL=empty_database_url,
        PARLEY_ENVIRONMENT="production",
        PARLEY_SECRET_KEY="a-production-secret-of-forty-characters-0",
    )

    refused = await run_parley("serve", "--port", "1", env=env)

    assert refused.code == 1
    assert "PARLEY_FHIR_CANONICAL_URL must be set" in refused.stderr


@pytest.mark.parametrize(
    "base", ["urn:parley", "ftp://fhir.example.org", "https://", "https://fhir.example.org/?a=1"]
)
async def test_a_canonical_base_that_is_not_an_absolute_http_url_is_refused(
    empty_database_url: str, base: str
) -> None:
    env = parley_environment(PARLEY_DATABASE_URL=empty_database_url, PARLEY_FHIR_CANONICAL_URL=base)

    refused = await run_parley("migrate", env=env)

    assert refused.code != 0
    assert "fhir_canonical_url" in refused.stderr
    assert "absolute http(s) URL" in refused.stderr
