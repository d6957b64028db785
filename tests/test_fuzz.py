"""The whole OpenAPI document fuzzed with schemathesis, as a clinician and as a patient.

Every generated request, valid or not, must get an answer the document
describes, and never a 5xx. The number of examples per operation is small
here (PARLEY_FUZZ_EXAMPLES, default 4); `make fuzz` runs many more.
"""

import os
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import psycopg
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.engine import make_url

from app.config import Settings
from app.main import create_app
from tests.support.processes import PARLEY, free_port, parley_environment

EXAMPLES = int(os.environ.get("PARLEY_FUZZ_EXAMPLES", "4"))
TEST_DATABASE_URL = os.environ.get("PARLEY_TEST_DATABASE_URL", "")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# An event stream never ends, so a fuzzer would wait on it forever.
schema = schemathesis.openapi.from_dict(create_app(Settings(_env_file=None)).openapi()).exclude(
    path="/api/v1/events"
)


@contextmanager
def fuzz_database(directory: str) -> Iterator[str]:
    """A fresh database on the suite's engine: PostgreSQL when PARLEY_TEST_DATABASE_URL names
    one (NUL and other strings PostgreSQL refuses are what the fuzzer sends), else SQLite."""
    if not TEST_DATABASE_URL:
        yield f"sqlite+aiosqlite:///{directory}/fuzz.db"
        return
    server = make_url(TEST_DATABASE_URL).set(drivername="postgresql")
    name = f"{server.database}_fuzz"
    with psycopg.connect(server.render_as_string(hide_password=False), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield server.set(database=name).render_as_string(hide_password=False)
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def fuzz_server() -> Iterator[str]:
    """`parley serve` on a fresh database with the demo data: a real process, fuzzed over HTTP."""
    with tempfile.TemporaryDirectory() as directory, fuzz_database(directory) as database_url:
        env = parley_environment(
            PARLEY_DATABASE_URL=database_url,
            PARLEY_PASSWORD_HASH_MEMORY_KIB="8192",
            PARLEY_PASSWORD_HASH_ITERATIONS="1",
            PARLEY_LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS="1000000",
            PARLEY_LOGIN_FAILURES_PER_ACCOUNT="1000000",
            PARLEY_LOGIN_FAILURES_PER_ADDRESS="1000000",
            PARLEY_LOG_LEVEL="ERROR",
        )
        subprocess.run([PARLEY, "seed-demo"], env=env, check=True, capture_output=True)
        port = free_port()
        server = subprocess.Popen([PARLEY, "serve", "--port", str(port)], env=env)
        base_url = f"http://127.0.0.1:{port}"
        try:
            wait_for(base_url)
            yield base_url
        finally:
            server.terminate()
            server.wait(30)


def wait_for(base_url: str) -> None:
    for _ in range(200):
        try:
            if httpx.get(f"{base_url}/health").status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("parley serve did not start")


def bearer(base_url: str, username: str, password: str) -> dict[str, str]:
    """A fresh login for every case: a fuzzed logout must not spoil the next one."""
    response = httpx.post(
        f"{base_url}/api/v1/auth/login", json={"username": username, "password": password}
    )
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


FUZZ_SETTINGS: Any = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)


@schema.parametrize()
@FUZZ_SETTINGS
def test_fuzz_as_a_clinician(case: Case[Any], fuzz_server: str) -> None:
    case.call_and_validate(
        base_url=fuzz_server,
        headers=bearer(fuzz_server, "dr_patel", "parley-demo-patel"),
        checks=CHECKS,
    )


@schema.parametrize()
@FUZZ_SETTINGS
def test_fuzz_as_a_patient(case: Case[Any], fuzz_server: str) -> None:
    case.call_and_validate(
        base_url=fuzz_server, headers=bearer(fuzz_server, "alex", "parley-demo-alex"), checks=CHECKS
    )
