"""The inbox's views and their counts at scale: `GET /api/v1/conversations?view=...` and
`GET /api/v1/conversations/counts` for a member of an organisation of 100,000
conversations, served by `parley serve`.

The world is seeded straight into SQL (`bench/seeding.py`); then a tenth of the
conversations is assigned to the reader, a tenth to a team group the reader belongs to,
one in fifty is urgent, and one in twenty has a patient waiting for three days. Usage:

    .venv/bin/python -m bench.inbox --database-url postgresql+psycopg://.../parley_bench
        [--conversations 100000] [--messages 300000]
"""

import argparse
import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncEngine

from app.conversations.models import Conversation, ConversationTask, InboxView, TaskStatus
from app.db import create_engine
from bench.client import api, login
from bench.measure import Figures, write_report
from bench.messaging import create_admin, measure_reads, seed_world, settle
from bench.server import served

GOAL_P99_MS = 15


async def triage(engine: AsyncEngine, ids: list[int], reader_id: int, group_id: int) -> None:
    """Assignments, urgency and waiting spread over the conversations, as a busy practice
    would have them."""
    now = datetime.now(UTC)
    tasks = [
        {
            "conversation_id": conversation_id,
            "fhir_id": str(uuid.uuid4()),
            "assignee_user_id": reader_id if n % 20 == 0 else None,
            "assignee_group_id": group_id if n % 20 == 10 else None,
            "status": TaskStatus.REQUESTED,
            "created_at": now,
            "updated_at": now,
        }
        for n, conversation_id in enumerate(ids)
        if n % 10 == 0
    ]
    async with engine.begin() as connection:
        for start in range(0, len(tasks), 5_000):
            await connection.execute(insert(ConversationTask), tasks[start : start + 5_000])
        await connection.execute(
            update(Conversation).where(Conversation.id % 50 == 0).values(priority="urgent")
        )
        await connection.execute(
            update(Conversation)
            .where(Conversation.id % 20 == 3)
            # As the escalation pass would have marked them, two days after the wait began.
            .values(
                awaiting_reply_since=now - timedelta(days=3), overdue_since=now - timedelta(days=1)
            )
        )


async def benchmark(
    database_url: str | None, scale: dict[str, int]
) -> tuple[list[Figures], list[str]]:
    async with served(
        database_url, PARLEY_LOGIN_FAILURES_PER_ADDRESS="100000", PARLEY_METRICS_ENABLED="true"
    ) as server:
        await create_admin(server.env)
        engine = create_engine(server.env["PARLEY_DATABASE_URL"])
        async with httpx.AsyncClient(base_url=server.base_url, timeout=120) as client:
            world = await seed_world(client, engine, scale)
            group = await api(
                client, "POST", "/api/v1/groups", await login(client, "bench_admin"),
                json={"name": "Bench team", "organisation_id": world.organisation_id,
                      "member_ids": [world.reader_id]},
            )  # fmt: skip
            print("assigning, marking urgent and waiting ...", flush=True)
            await triage(engine, world.conversation_ids, world.reader_id, group["id"])
            await settle(server.env["PARLEY_DATABASE_URL"], engine)
            token = await login(client, "bench_staff")
            pages = {
                f"view {view.value}": (f"/api/v1/conversations?view={view.value}&limit=50", token)
                for view in InboxView
            } | {
                "counts": ("/api/v1/conversations/counts", token),
                # The floor: a signed-in request that reads no conversation.
                "floor /auth/me": ("/api/v1/auth/me", token),
            }
            figures, costs = await measure_reads(client, pages, requests=100)
        await engine.dispose()
        return figures, costs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=300_000)
    arguments = parser.parse_args()
    scale = {
        "patients": arguments.patients,
        "conversations": arguments.conversations,
        "messages": arguments.messages,
        "gp_conversations": 50,
        "big_thread": 1_000,
    }
    figures, costs = asyncio.run(benchmark(arguments.database_url, scale))
    print(f"\nInbox views for a member of an organisation of {arguments.conversations} "
          "conversations (one client, 50 a page):")  # fmt: skip
    for figure in figures:
        print(figure.line())
    for line in costs:
        print(f"  {line}")
    worst = max(figure.p99_ms for figure in figures)
    print(f"\nworst p99: {worst:.1f} ms (goal: {GOAL_P99_MS} ms per page on PostgreSQL)")
    write_report("inbox", figures, conversations=arguments.conversations, costs=costs)


if __name__ == "__main__":
    main()
