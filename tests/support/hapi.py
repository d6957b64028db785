"""The real HAPI FHIR server from fhir/hapi, started once per test run.

`PARLEY_TEST_FHIR_URL` points the tests at a server that is already running.
Without Java the HAPI tests skip; `PARLEY_REQUIRE_HAPI=1` (set by CI) turns
that skip into a failure, so CI can never pass without having talked to HAPI.
"""

import asyncio
import os
import shutil
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from tests.support.output import OUTPUT_DIR
from tests.support.processes import free_port

HAPI_DIR = Path(__file__).resolve().parents[2] / "fhir" / "hapi"
HAPI_JAR = HAPI_DIR / "target" / "parley-hapi.jar"
LOG_DIR = OUTPUT_DIR
START_TIMEOUT_SECONDS = 300
BUILD_TIMEOUT_SECONDS = 1200


def hapi_required() -> bool:
    return os.environ.get("PARLEY_REQUIRE_HAPI") == "1"


def missing_tools() -> str | None:
    if shutil.which("java") is None:
        return "HAPI FHIR tests need Java 17 (java is not on PATH)"
    if not HAPI_JAR.exists() and shutil.which("mvn") is None:
        return "HAPI FHIR tests need Maven to build fhir/hapi (mvn is not on PATH)"
    return None


def skip_or_fail(reason: str) -> None:
    if hapi_required():
        pytest.fail(f"{reason}; PARLEY_REQUIRE_HAPI=1 forbids skipping", pytrace=False)
    pytest.skip(reason)


async def build_jar() -> None:
    """Build the server if sources changed since the jar was made (build.sh decides)."""
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    with (LOG_DIR / "hapi-build.log").open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            str(HAPI_DIR / "build.sh"), stdout=log, stderr=asyncio.subprocess.STDOUT
        )
        async with asyncio.timeout(BUILD_TIMEOUT_SECONDS):
            code = await process.wait()
    if code != 0:
        pytest.fail(f"building fhir/hapi failed; see {LOG_DIR / 'hapi-build.log'}", pytrace=False)


@asynccontextmanager
async def running_hapi() -> AsyncIterator[str]:
    """Start the jar on a free port; answer its base URL once /metadata answers."""
    port = free_port()
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log_path = LOG_DIR / "hapi.log"
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            "java", "-Xmx1g", "-jar", str(HAPI_JAR),
            env=os.environ | {"SERVER_PORT": str(port)},
            stdout=log, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        base_url = f"http://127.0.0.1:{port}/fhir"
        try:
            await wait_for_metadata(base_url, process, log_path)
            yield base_url
        finally:
            if process.returncode is None:
                process.terminate()
                try:
                    async with asyncio.timeout(60):
                        await process.wait()
                except TimeoutError:
                    process.kill()


async def wait_for_metadata(
    base_url: str, process: asyncio.subprocess.Process, log_path: Path
) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    async with httpx.AsyncClient(timeout=5) as client:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                pytest.fail(f"HAPI exited with {process.returncode}; see {log_path}", pytrace=False)
            try:
                if (await client.get(f"{base_url}/metadata")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(1)
    pytest.fail(f"HAPI did not answer within {START_TIMEOUT_SECONDS} s; see {log_path}")
