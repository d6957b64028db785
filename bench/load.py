"""A mixed load against `parley serve`: 80% reads, 20% sends, 50 users, then a consistency check.

    .venv/bin/python -m bench.load --database-url postgresql://... --fhir-url http://127.0.0.1:8080/fhir

Half the users are clinicians, half patients; each pair shares a conversation.
A user reads their inbox (40%), reads their thread (40%) or sends (20%), as
fast as answers come, for the given time. Afterwards every conversation is
read from SQL and from FHIR: the message ids must be the same, each once.
"""

import argparse
import asyncio
import random
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from fhir.resources.R4B.communication import Communication

from app.db import create_engine, create_sessionmaker
from app.fhir.factory import create_gateway
from app.fhir.resources import thread_search
from bench.client import PASSWORD, api, login, organisation, patient_with_login, staff
from bench.measure import Figures, Sample, summarise, write_report
from bench.server import run_command, served

OPERATIONS = (("inbox", 0.4), ("thread", 0.4), ("send", 0.2))


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(
        default_factory=lambda: {op: [] for op, _ in OPERATIONS}
    )
    errors: dict[str, int] = field(default_factory=lambda: {op: 0 for op, _ in OPERATIONS})


@dataclass(frozen=True)
class VirtualUser:
    token: str
    conversation_id: int


async def build(
    client: httpx.AsyncClient, pairs: int
) -> tuple[list[VirtualUser], list[dict[str, Any]]]:
    root = await login(client, "bench_admin")
    organisation_id = await organisation(client, root, "messaging", "patient_messaging")
    users: list[VirtualUser] = []
    conversations: list[dict[str, Any]] = []
    for number in range(pairs):
        await staff(client, root, organisation_id, f"doctor_{number}", "consultant")
        patient, _ = await patient_with_login(client, root, organisation_id, f"patient_{number}")
        doctor = await login(client, f"doctor_{number}")
        conversation = await api(
            client, "POST", "/api/v1/conversations", doctor,
            json={"patient_id": patient["id"], "include_patient": True,
                  "message": {"text": "Hello"}},
        )  # fmt: skip
        conversations.append(conversation)
        users.append(VirtualUser(doctor, conversation["id"]))
        users.append(VirtualUser(await login(client, f"patient_{number}"), conversation["id"]))
    return users, conversations


async def act(client: httpx.AsyncClient, user: VirtualUser, operation: str) -> None:
    headers = {"Authorization": f"Bearer {user.token}"}
    base = f"/api/v1/conversations/{user.conversation_id}"
    if operation == "inbox":
        response = await client.get("/api/v1/conversations?limit=20", headers=headers)
    elif operation == "thread":
        response = await client.get(f"{base}/messages?limit=50", headers=headers)
    else:
        response = await client.post(
            f"{base}/messages", json={"text": "Load test message"}, headers=headers
        )
    response.raise_for_status()


async def run_user(
    client: httpx.AsyncClient, user: VirtualUser, until: float, tally: Tally, seed: int
) -> None:
    chooser = random.Random(seed)
    names = [name for name, _ in OPERATIONS]
    weights = [weight for _, weight in OPERATIONS]
    while time.monotonic() < until:
        operation = chooser.choices(names, weights)[0]
        started = time.perf_counter()
        try:
            await act(client, user, operation)
        except (httpx.HTTPError, OSError):
            tally.errors[operation] += 1
            continue
        tally.latencies[operation].append((time.perf_counter() - started) * 1000)


async def consistency(
    client: httpx.AsyncClient, env: dict[str, str], token: str, conversations: list[dict[str, Any]]
) -> tuple[int, int, int]:
    """(messages in SQL, messages in FHIR, conversations where the two differ)."""
    engine = create_engine(env["PARLEY_DATABASE_URL"])
    fhir = create_gateway(
        env["PARLEY_FHIR_URL"],
        sessionmaker=create_sessionmaker(engine),
        connect_timeout=5,
        read_timeout=120,
    )
    in_sql = in_fhir = differing = 0
    for conversation in conversations:
        sql_ids = await thread_ids(client, token, conversation["id"])
        fhir_ids = [
            str(resource.id)
            async for resource in fhir.search(
                Communication, thread_search(conversation["fhir_id"], page_size=200)
            )
        ]
        in_sql, in_fhir = in_sql + len(sql_ids), in_fhir + len(fhir_ids)
        differing += sorted(sql_ids) != sorted(fhir_ids) or len(set(sql_ids)) != len(sql_ids)
    await fhir.aclose()
    await engine.dispose()
    return in_sql, in_fhir, differing


async def thread_ids(client: httpx.AsyncClient, token: str, conversation_id: int) -> list[str]:
    ids: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 200} | ({"before": cursor} if cursor else {})
        page = await api(
            client, "GET", f"/api/v1/conversations/{conversation_id}/messages", token, params=params
        )
        ids += [message["fhir_id"] for message in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return ids


async def benchmark(
    database_url: str | None, fhir_url: str, users: int, seconds: float
) -> dict[str, Any]:
    async with served(
        database_url, PARLEY_FHIR_URL=fhir_url, PARLEY_LOGIN_FAILURES_PER_ADDRESS="100000"
    ) as server:
        base_url, env = server.base_url, server.env
        await run_command(
            "create-admin", "--username", "bench_admin", "--email", "bench@example.org",
            "--password", PASSWORD, env=env,
        )  # fmt: skip
        limits = httpx.Limits(max_connections=users + 10)
        async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits) as client:
            print(f"preparing {users} users ...", flush=True)
            virtual_users, conversations = await build(client, users // 2)
            tally = Tally()
            print(f"running for {seconds:.0f} s ...", flush=True)
            started = time.monotonic()
            await asyncio.gather(
                *(
                    run_user(client, user, started + seconds, tally, n)
                    for n, user in enumerate(virtual_users)
                )
            )
            elapsed = time.monotonic() - started
            print("checking SQL against FHIR ...", flush=True)
            checked = await consistency(
                client, env | {"PARLEY_FHIR_URL": fhir_url}, virtual_users[0].token, conversations
            )
    figures = [
        summarise(
            name, [Sample(tally.latencies[name], tally.errors[name], elapsed)], concurrency=users
        )
        for name, _ in OPERATIONS
    ]
    return {"figures": figures, "seconds": elapsed, "consistency": checked}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    parser.add_argument("--fhir-url", default="embedded")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    arguments = parser.parse_args()
    result = asyncio.run(
        benchmark(arguments.database_url, arguments.fhir_url, arguments.users, arguments.seconds)
    )
    figures: list[Figures] = result["figures"]
    total = sum(f.operations - f.errors for f in figures)
    print(
        f"throughput: {total / result['seconds']:.1f} operations/s over {result['seconds']:.0f} s"
    )
    for line in figures:
        print(line.line())
    in_sql, in_fhir, differing = result["consistency"]
    print(f"consistency: {in_sql} messages in SQL, {in_fhir} in FHIR; {differing} differ")
    checked = {"sql": in_sql, "fhir": in_fhir, "differing": differing}
    report = write_report(
        "load", figures, database_url=arguments.database_url or "sqlite",
        fhir_url=arguments.fhir_url, consistency=checked,
    )  # fmt: skip
    print(f"report: {report}")
    if differing or any(f.errors for f in figures):
        raise SystemExit("errors or inconsistency: see above")


if __name__ == "__main__":
    main()
