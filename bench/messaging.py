"""Sends beside raw FHIR creates, and inbox and thread pages at scale, against `parley serve`.

    .venv/bin/python -m bench.messaging [--database-url postgresql+psycopg://.../parley_bench]
        [--fhir-url http://.../fhir] [--workers 1 2] [--skip-reads | --skip-sends]

Sends go through the API and FHIR, alternating with raw FHIR conditional creates
on the same server, at 1 and 8 clients, into one conversation and spread over
50, with each number of `parley serve` workers; it prints throughput and p50
side by side, the ratio, and per send the SQL statements and transactions
(from /metrics) and the CPU of Parley and of PostgreSQL (from /proc).

Reads are served by SQL alone, so their volume is seeded straight into it
(`bench/seeding.py`: 10,000 patients, 100,000 conversations, 1,000,000
messages, one thread of 50,000), then inbox and thread pages are timed with
the statements each costs. A PostgreSQL database named here is dropped and
made afresh each run, so its name must contain "bench".
"""

import argparse
import asyncio
import dataclasses
import itertools
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db import create_engine, create_sessionmaker
from app.fhir.factory import create_gateway
from app.fhir.protocol import FhirGateway
from app.fhir.resources import MessageRecord, Party, build_message, message_identifier
from bench import cpu, seeding
from bench.client import PASSWORD, api, login, organisation, patient_with_login, staff
from bench.measure import Figures, compare_alternating, run_timed, summarise, write_report
from bench.server import Served, run_command, served

CHUNK = 5_000


async def build_world(client: httpx.AsyncClient) -> dict[str, Any]:
    """An organisation with messaging on, a clinician, a patient with a portal login, one
    conversation made through the API (so it exists in FHIR too)."""
    root = await login(client, "bench_admin")
    organisation_id = await organisation(client, root, "messaging", "patient_messaging")
    clinician = await staff(client, root, organisation_id, "bench_doc", "consultant")
    patient, portal = await patient_with_login(client, root, organisation_id, "bench_pat")
    doctor = await login(client, "bench_doc")
    conversation = await api(
        client, "POST", "/api/v1/conversations", doctor,
        json={"patient_id": patient["id"], "include_patient": True, "message": {"text": "Start"}},
    )  # fmt: skip
    return {
        "doctor": doctor, "doctor_id": clinician["id"], "patient_id": patient["id"],
        "portal_id": portal["id"], "conversation": conversation,
    }  # fmt: skip


async def measure_reads(
    client: httpx.AsyncClient, pages: dict[str, tuple[str, str]], requests: int
) -> tuple[list[Figures], list[str]]:
    """Each page `requests` times at one client; with the SQL statements each one costs."""
    figures, costs = [], []
    for label, (url, token) in pages.items():

        async def read(_: int, url: str = url, token: str = token) -> None:
            await api(client, "GET", url, token)

        await run_timed(read, operations=10, concurrency=1)  # warm
        before = await counters(client)
        sample = await run_timed(read, operations=requests, concurrency=1)
        after = await counters(client)
        figures.append(summarise(label, [sample], concurrency=1))
        per_page = (after["statements"] - before["statements"]) / requests
        costs.append(f"{label}: {per_page:.1f} SQL statements a page")
    return figures, costs


@dataclass(frozen=True)
class SendCost:
    """What one API send costs the server, averaged over a block of sends."""

    label: str
    sends: int
    statements: float
    transactions: float
    parley_cpu_ms: float
    postgres_cpu_ms: float | None

    def line(self) -> str:
        postgres = f"{self.postgres_cpu_ms:.1f} ms" if self.postgres_cpu_ms is not None else "n/a"
        return (
            f"per send ({self.label}, n={self.sends}): {self.statements:.1f} SQL statements, "
            f"{self.transactions:.2f} transactions, Parley CPU {self.parley_cpu_ms:.1f} ms, "
            f"PostgreSQL CPU {postgres}"
        )


async def counters(client: httpx.AsyncClient) -> dict[str, float]:
    """The server's SQL counters, from /metrics."""
    text = (await client.get("/metrics")).text
    found = {"statements": 0.0, "transactions": 0.0}
    for line in text.splitlines():
        if line.startswith("parley_sql_statements_total"):
            found["statements"] += float(line.split()[-1])
        elif line.startswith("parley_sql_transactions_total"):
            found["transactions"] += float(line.split()[-1])
    return found


async def measure_send_cost(
    client: httpx.AsyncClient,
    server: Served,
    send: Callable[[int], Awaitable[object]],
    label: str,
    sends: int,
) -> SendCost:
    await run_timed(send, operations=20, concurrency=1)  # warm: plans, pools, caches
    before_sql, before_parley = await counters(client), cpu.tree_seconds(server.pid)
    before_postgres = cpu.command_seconds("postgres")
    await run_timed(send, operations=sends, concurrency=1)
    after_sql, after_parley = await counters(client), cpu.tree_seconds(server.pid)
    after_postgres = cpu.command_seconds("postgres")
    # The two /metrics reads are requests too, but they make no SQL.
    postgres = (
        (after_postgres - before_postgres) * 1000 / sends
        if after_postgres is not None and before_postgres is not None
        else None
    )
    return SendCost(
        label=label,
        sends=sends,
        statements=(after_sql["statements"] - before_sql["statements"]) / sends,
        transactions=(after_sql["transactions"] - before_sql["transactions"]) / sends,
        parley_cpu_ms=(after_parley - before_parley) * 1000 / sends,
        postgres_cpu_ms=postgres,
    )


async def start_conversations(
    client: httpx.AsyncClient, world: dict[str, Any], count: int
) -> list[dict[str, Any]]:
    """Conversations made through the API, so each has its thread header in FHIR."""
    started = []
    for n in range(count):
        started.append(
            await api(
                client,
                "POST",
                "/api/v1/conversations",
                world["doctor"],
                json={
                    "patient_id": world["patient_id"],
                    "include_patient": True,
                    "message": {"text": f"Spread {n}"},
                },
            )
        )
    return started


def sender(
    client: httpx.AsyncClient, token: str, conversations: list[dict[str, Any]]
) -> Callable[[int], Awaitable[object]]:
    async def send(index: int) -> None:
        conversation = conversations[index % len(conversations)]
        await api(
            client, "POST", f"/api/v1/conversations/{conversation['id']}/messages", token,
            json={"text": f"Send {index} of the benchmark"},
        )  # fmt: skip

    return send


def raw_creator(
    fhir: FhirGateway, world: dict[str, Any], conversations: list[dict[str, Any]]
) -> Callable[[int], Awaitable[object]]:
    async def raw_create(index: int) -> None:
        header = conversations[index % len(conversations)]["fhir_id"]
        record = MessageRecord(
            uuid=uuid.uuid4(), header_fhir_id=header, patient_id=world["patient_id"],
            sender=Party("user", world["doctor_id"]), sent=datetime.now(UTC), text=f"Raw {index}",
        )  # fmt: skip
        await fhir.create_if_none_exist(
            build_message(record), identifier=message_identifier(record.uuid)
        )

    return raw_create


async def measure_sends(
    client: httpx.AsyncClient,
    world: dict[str, Any],
    fhir: FhirGateway,
    spread: list[dict[str, Any]],
    label: str,
    sends: int,
) -> list[Figures]:
    """API sends beside raw FHIR creates, alternating, at 1 and 8 clients, into one
    conversation and spread over many."""
    figures: list[Figures] = []
    for where, conversations in (("1 conversation", spread[:1]), ("spread", spread)):
        contenders = {
            f"send via API ({label}, {where})": sender(client, world["doctor"], conversations),
            f"raw FHIR create ({label}, {where})": raw_creator(fhir, world, conversations),
        }
        for clients in (1, 8):
            figures += await compare_alternating(
                contenders, operations=sends, concurrency=clients, rounds=4
            )
    return figures


async def sends_benchmark(
    database_url: str | None, fhir_url: str, sends: int, workers: int
) -> tuple[list[Figures], list[SendCost]]:
    async with served(
        database_url, workers=workers, PARLEY_FHIR_URL=fhir_url, PARLEY_METRICS_ENABLED="true",
        PARLEY_LOGIN_FAILURES_PER_ADDRESS="100000", PARLEY_RECONCILE_SECONDS="0",
    ) as server:  # fmt: skip
        await create_admin(server.env)
        async with httpx.AsyncClient(base_url=server.base_url, timeout=120) as client:
            world = await build_world(client)
            spread = [world["conversation"], *await start_conversations(client, world, 49)]
            costs = []
            if workers == 1:  # each worker counts its own statements: one is exact
                send = sender(client, world["doctor"], spread)
                costs.append(await measure_send_cost(client, server, send, "API", sends))
            engine = create_engine(server.env["PARLEY_DATABASE_URL"])
            fhir = create_gateway(
                fhir_url, sessionmaker=create_sessionmaker(engine),
                connect_timeout=5, read_timeout=60,
            )  # fmt: skip
            try:
                figures = await measure_sends(
                    client, world, fhir, spread, f"{workers} worker(s)", sends
                )
            finally:
                await fhir.aclose()
                await engine.dispose()
    return figures, costs


async def create_admin(env: dict[str, str]) -> None:
    await run_command(
        "create-admin", "--username", "bench_admin", "--email", "bench@example.org",
        "--password", PASSWORD, env=env,
    )  # fmt: skip


@dataclass(frozen=True)
class SeededWorld:
    """A large practice seeded straight into SQL (`bench/seeding.py`), beside a partner
    organisation whose GP takes part in a few of its conversations."""

    organisation_id: int
    reader_id: int  # bench_staff, of the practice, in none of its conversations
    conversation_ids: list[int]


async def seed_world(
    client: httpx.AsyncClient, engine: AsyncEngine, scale: dict[str, int]
) -> SeededWorld:
    root = await login(client, "bench_admin")
    organisation_id = await organisation(client, root, "messaging", "patient_messaging")
    partner_id = await organisation(client, root, "messaging")
    author = await staff(client, root, organisation_id, "bench_author", "consultant")
    reader = await staff(client, root, organisation_id, "bench_staff", "consultant")
    gp = await staff(client, root, partner_id, "bench_gp", "gp")
    cast = seeding.Cast(organisation_id, partner_id, author["id"], gp["id"])
    ids = await seeding.seed(engine, cast, **scale)
    return SeededWorld(organisation_id, reader["id"], ids)


async def settle(database_url: str, engine: AsyncEngine) -> None:
    """Settled as a live database would be: hint bits set and the visibility map current
    (else autovacuum runs mid-measurement), statistics fresh."""
    if database_url.startswith("postgresql"):
        autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
        async with autocommit.connect() as connection:
            await connection.execute(text("VACUUM (ANALYZE)"))


async def reads_benchmark(
    database_url: str | None, fhir_url: str, scale: dict[str, int]
) -> tuple[list[Figures], list[str]]:
    """Inbox and thread pages over a large world seeded straight into SQL."""
    async with served(
        database_url, PARLEY_FHIR_URL=fhir_url, PARLEY_LOGIN_FAILURES_PER_ADDRESS="100000",
        PARLEY_METRICS_ENABLED="true",
    ) as server:  # fmt: skip
        await create_admin(server.env)
        engine = create_engine(server.env["PARLEY_DATABASE_URL"])
        async with httpx.AsyncClient(base_url=server.base_url, timeout=120) as client:
            ids = (await seed_world(client, engine, scale)).conversation_ids
            await settle(server.env["PARLEY_DATABASE_URL"], engine)
            staff_token, gp_token = (
                await login(client, "bench_staff"),
                await login(client, "bench_gp"),
            )
            thread = f"/api/v1/conversations/{ids[0]}/messages?limit=50"
            deep = await seeding.cursor_halfway(engine, ids[0])
            label = f"{scale['conversations']} conversations, {scale['messages']} messages"
            # Everything each may read (the default view, `mine`, is only their own work).
            inbox = "/api/v1/conversations?view=organisation&limit=50"
            pages = {
                f"inbox page, staff who see all ({label})": (inbox, staff_token),
                f"inbox page, GP in {scale['gp_conversations']} ({label})": (inbox, gp_token),
                f"thread page, newest of {scale['big_thread']}": (thread, gp_token),
                f"thread page, halfway back in {scale['big_thread']}": (
                    f"{thread}&before={deep}",
                    gp_token,
                ),
            }
            figures, costs = await measure_reads(client, pages, requests=200)
        await engine.dispose()
        return figures, costs


def ratios(figures: list[Figures]) -> list[str]:
    """Each API send block beside the raw FHIR block measured alongside it."""
    lines = []
    for send, raw in itertools.pairwise(figures):
        if send.name.startswith("send via API") and raw.name.startswith("raw FHIR"):
            ratio = send.per_second / raw.per_second
            lines.append(
                f"  {send.name} c={send.concurrency}: throughput x{ratio:.2f} of raw FHIR, "
                f"p50 +{send.p50_ms - raw.p50_ms:.1f} ms"
            )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    parser.add_argument("--fhir-url", default="embedded")
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--gp-conversations", type=int, default=50)
    parser.add_argument("--big-thread", type=int, default=50_000, help="messages in one thread")
    parser.add_argument("--sends", type=int, default=400)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--skip-reads", action="store_true", help="sends only")
    parser.add_argument("--skip-sends", action="store_true", help="reads only")
    arguments = parser.parse_args()
    figures: list[Figures] = []
    costs: list[SendCost] = []
    for workers in [] if arguments.skip_sends else arguments.workers:
        found, measured = asyncio.run(
            sends_benchmark(arguments.database_url, arguments.fhir_url, arguments.sends, workers)
        )
        figures += found
        costs += measured
    read_costs: list[str] = []
    if not arguments.skip_reads:
        scale = {
            "patients": arguments.patients,
            "conversations": arguments.conversations,
            "messages": arguments.messages,
            "gp_conversations": arguments.gp_conversations,
            "big_thread": arguments.big_thread,
        }
        found, read_costs = asyncio.run(
            reads_benchmark(arguments.database_url, arguments.fhir_url, scale)
        )
        figures += found
    for figure in figures:
        print(figure.line())
    for cost in costs:
        print(cost.line())
    for line in read_costs:
        print(line)
    for ratio in ratios(figures):
        print(ratio)
    report = write_report(
        "messaging",
        figures,
        costs=[dataclasses.asdict(cost) for cost in costs],
        database_url=arguments.database_url or "sqlite",
        fhir_url=arguments.fhir_url,
    )
    print(f"report: {report}")


if __name__ == "__main__":
    main()
