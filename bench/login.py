"""Logins per second and latency against `parley serve`, at 1 and 4 concurrent clients.

    .venv/bin/python -m bench.login [--database-url postgresql://...] [--logins 200]

Passwords are hashed with the production argon2id parameters (19 MiB, t=2, p=1),
which is where almost all of a login's time goes.
"""

import argparse
import asyncio

import httpx

from bench.measure import Figures, run_timed, summarise, write_report
from bench.server import run_command, served

USERNAME = "bench_admin"
PASSWORD = "a benchmark passphrase"


async def benchmark(database_url: str | None, logins: int, concurrency: list[int]) -> list[Figures]:
    async with served(database_url) as server:
        base_url, env = server.base_url, server.env
        await run_command(
            "create-admin", "--username", USERNAME, "--email", "bench@example.org",
            "--password", PASSWORD, env=env,
        )  # fmt: skip
        async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:

            async def log_in(_: int) -> None:
                response = await client.post(
                    "/api/v1/auth/login", json={"username": USERNAME, "password": PASSWORD}
                )
                response.raise_for_status()

            await run_timed(log_in, operations=10, concurrency=1)  # warm-up
            figures = []
            for clients in concurrency:
                sample = await run_timed(log_in, operations=logins, concurrency=clients)
                figures.append(summarise("login", [sample], concurrency=clients))
            return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    parser.add_argument("--logins", type=int, default=200)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4])
    arguments = parser.parse_args()
    figures = asyncio.run(
        benchmark(arguments.database_url, arguments.logins, arguments.concurrency)
    )
    for line in figures:
        print(line.line())
    print(
        f"report: {write_report('login', figures, database_url=arguments.database_url or 'sqlite')}"
    )


if __name__ == "__main__":
    main()
