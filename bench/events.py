"""Server-Sent Events fan-out: N clients connected, one sender; time from send to receipt.

    .venv/bin/python -m bench.events [--clients 200] [--messages 50] [--database-url ...]

Every client is a different staff member of the conversation's organisation, so
each event is checked against each reader's right to see it.
"""

import argparse
import asyncio
import json
import time

import httpx

from bench.client import PASSWORD, api, login, organisation, staff
from bench.measure import Figures, Sample, summarise, write_report
from bench.server import run_command, served


async def make_readers(
    client: httpx.AsyncClient, root: str, organisation_id: int, count: int
) -> list[str]:
    async def one(number: int) -> str:
        await staff(client, root, organisation_id, f"reader_{number}", "nurse")
        return await login(client, f"reader_{number}")

    tokens: list[str] = []
    for start in range(0, count, 8):
        tokens += await asyncio.gather(*(one(n) for n in range(start, min(start + 8, count))))
    return tokens


async def listen(
    base_url: str, token: str, arrivals: dict[int, list[float]], ready: asyncio.Event
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        httpx.AsyncClient(base_url=base_url, timeout=None) as client,
        client.stream("GET", "/api/v1/events", headers=headers) as response,
    ):
        ready.set()
        event, data = "", ""
        async for line in response.aiter_lines():
            if line.startswith("event:"):
                event = line.removeprefix("event:").strip()
            elif line.startswith("data:"):
                data = line.removeprefix("data:").strip()
            elif line == "" and event == "message.created":
                arrivals.setdefault(json.loads(data)["message_id"], []).append(time.perf_counter())
                event = ""


async def benchmark(database_url: str | None, clients: int, messages: int) -> Figures:
    async with served(database_url, PARLEY_LOGIN_FAILURES_PER_ADDRESS="100000") as server:
        base_url, env = server.base_url, server.env
        await run_command(
            "create-admin", "--username", "bench_admin", "--email", "bench@example.org",
            "--password", PASSWORD, env=env,
        )  # fmt: skip
        async with httpx.AsyncClient(base_url=base_url, timeout=120) as client:
            root = await login(client, "bench_admin")
            organisation_id = await organisation(client, root, "messaging")
            await staff(client, root, organisation_id, "sender", "consultant")
            sender = await login(client, "sender")
            patient = await api(
                client, "POST", "/api/v1/patients", sender,
                json={"given_name": "Bench", "family_name": "Patient",
                      "organisation_id": organisation_id},
            )  # fmt: skip
            conversation = await api(
                client, "POST", "/api/v1/conversations", sender,
                json={"patient_id": patient["id"], "message": {"text": "Start"}},
            )  # fmt: skip
            print(f"making {clients} readers ...", flush=True)
            tokens = await make_readers(client, root, organisation_id, clients)
            arrivals: dict[int, list[float]] = {}
            readiness = [asyncio.Event() for _ in tokens]
            listeners = [
                asyncio.create_task(listen(base_url, token, arrivals, ready))
                for token, ready in zip(tokens, readiness, strict=True)
            ]
            await asyncio.gather(*(ready.wait() for ready in readiness))
            await asyncio.sleep(1)
            sent_at: dict[int, float] = {}
            for number in range(messages):
                started = time.perf_counter()
                message = await api(
                    client, "POST", f"/api/v1/conversations/{conversation['id']}/messages", sender,
                    json={"text": f"fan-out {number}"},
                )  # fmt: skip
                sent_at[message["id"]] = started
                await asyncio.sleep(0.1)
            await asyncio.sleep(3)
            for listener in listeners:
                listener.cancel()
            await asyncio.gather(*listeners, return_exceptions=True)
    latencies = [
        (arrived - sent_at[message_id]) * 1000
        for message_id, times in arrivals.items()
        if message_id in sent_at
        for arrived in times
    ]
    missing = clients * messages - len(latencies)
    sample = Sample(latencies_ms=latencies, errors=missing, seconds=messages * 0.1)
    return summarise(f"send to receipt, {clients} streams", [sample], concurrency=clients)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--messages", type=int, default=50)
    arguments = parser.parse_args()
    figures = asyncio.run(benchmark(arguments.database_url, arguments.clients, arguments.messages))
    print(figures.line())
    print("  (errors = deliveries that never arrived)")
    report = write_report("events", [figures], database_url=arguments.database_url or "sqlite")
    print(f"report: {report}")


if __name__ == "__main__":
    main()
