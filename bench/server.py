"""Run `parley serve` as a separate process for a benchmark, as production would."""

import asyncio
import os
import socket
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

PARLEY = str(Path(sys.executable).parent / "parley")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def environment(database_url: str | None, directory: str, **extra: str) -> dict[str, str]:
    url = database_url or f"sqlite+aiosqlite:///{directory}/bench.db"
    return os.environ | {"PARLEY_DATABASE_URL": url, "PARLEY_LOG_LEVEL": "WARNING"} | extra


async def run_command(*args: str, env: dict[str, str]) -> None:
    process = await asyncio.create_subprocess_exec(PARLEY, *args, env=env)
    if await process.wait() != 0:
        raise SystemExit(f"parley {args[0]} failed")


@asynccontextmanager
async def served(
    database_url: str | None = None, **settings: str
) -> AsyncIterator[tuple[str, dict[str, str]]]:
    """Base URL of a fresh `parley serve`, and the environment it runs with."""
    with tempfile.TemporaryDirectory() as directory:
        env = environment(database_url, directory, **settings)
        port = free_port()
        process = await asyncio.create_subprocess_exec(
            PARLEY, "serve", "--port", str(port), env=env, stderr=asyncio.subprocess.DEVNULL
        )
        base_url = f"http://127.0.0.1:{port}"
        try:
            await wait_until_ready(base_url)
            yield base_url, env
        finally:
            process.terminate()
            await process.wait()


async def wait_until_ready(base_url: str) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(300):
            try:
                if (await client.get(f"{base_url}/health")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit("parley serve did not start")
