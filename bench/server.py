"""Run `parley serve` as a separate process for a benchmark, as production would."""

import asyncio
import os
import socket
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

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


@dataclass(frozen=True)
class Served:
    base_url: str
    env: dict[str, str]
    pid: int  # of `parley serve`; its workers are its children


@asynccontextmanager
async def served(
    database_url: str | None = None, *, workers: int = 1, **settings: str
) -> AsyncIterator[Served]:
    """A fresh `parley serve`: its base URL, the environment it runs with, its process."""
    await fresh_database(database_url)
    with tempfile.TemporaryDirectory() as directory:
        env = environment(database_url, directory, **settings)
        port = free_port()
        process = await asyncio.create_subprocess_exec(
            PARLEY, "serve", "--port", str(port), "--workers", str(workers),
            env=env, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        base_url = f"http://127.0.0.1:{port}"
        try:
            await wait_until_ready(base_url)
            yield Served(base_url, env, process.pid)
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


async def fresh_database(database_url: str | None) -> None:
    """Drop and create the PostgreSQL database a run is given, so each run starts empty
    (a SQLite run gets a fresh file of its own anyway)."""
    if database_url is None or not database_url.startswith("postgresql"):
        return
    url = make_url(database_url)
    if "bench" not in (url.database or ""):  # never drop a database that is not for this
        raise SystemExit("a benchmark's PostgreSQL database must have 'bench' in its name")
    engine = create_async_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
            await connection.execute(text(f'CREATE DATABASE "{url.database}"'))
    finally:
        await engine.dispose()
