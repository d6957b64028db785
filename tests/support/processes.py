"""Run the `parley` command as a user would: a separate process."""

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

PARLEY = str(Path(sys.executable).parent / "parley")
COMMAND_TIMEOUT_SECONDS = 180


@dataclass(frozen=True)
class Finished:
    code: int
    stdout: str
    stderr: str


def parley_environment(**variables: str) -> dict[str, str]:
    """The current environment without any PARLEY_* setting, plus the given ones."""
    clean = {key: value for key, value in os.environ.items() if not key.startswith("PARLEY_")}
    return clean | variables


async def run_parley(*args: str, env: dict[str, str], stdin: str | None = None) -> Finished:
    process = await asyncio.create_subprocess_exec(
        PARLEY,
        *args,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(COMMAND_TIMEOUT_SECONDS):
        stdout, stderr = await process.communicate(stdin.encode() if stdin is not None else None)
    assert process.returncode is not None
    return Finished(process.returncode, stdout.decode(), stderr.decode())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@asynccontextmanager
async def parley_serve(
    env: dict[str, str],
) -> AsyncIterator[tuple[str, asyncio.subprocess.Process]]:
    """`parley serve` on a free port, once it answers /health: (base URL, process)."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        PARLEY, "serve", "--port", str(port), env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    base_url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(200):
                try:
                    if (await client.get(f"{base_url}/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
        yield base_url, process
    finally:
        if process.returncode is None:
            process.terminate()
            await process.wait()
