"""Sends, inbox pages and thread pages against `parley serve`, at 1k and at 100k messages.

    .venv/bin/python -m bench.messaging [--database-url postgresql://...] [--fhir-url http://.../fhir]

The volume is seeded straight into the SQL projection (1,000 conversations,
then 100,000 messages): reads are served by SQL alone, so that is what they
cost. Sends go through the API and FHIR, beside raw FHIR conditional creates
on the same server, so the ratio shows what Parley adds to a send.
"""

import argparse
import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db import create_engine, create_sessionmaker
from app.fhir.factory import create_gateway
from app.fhir.resources import MessageRecord, Party, build_message, message_identifier
from app.messaging.models import (
    Conversation,
    ConversationParticipant,
    ConversationStatus,
    Message,
    MessageReceipt,
    ParticipantRole,
)
from bench.client import PASSWORD, api, login, organisation, patient_with_login, staff
from bench.measure import Figures, Sample, run_timed, summarise, write_report
from bench.server import run_command, served

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


async def seed_conversations(engine: AsyncEngine, world: dict[str, Any], count: int) -> list[int]:
    start = datetime.now(UTC) - timedelta(days=30)
    rows = [
        {
            "uuid": uuid.uuid4(),
            "fhir_id": f"bench-conversation-{n}",
            "patient_id": world["patient_id"],
            "subject": f"Bench {n}",
            "status": ConversationStatus.ACTIVE,
            "created_by_id": world["doctor_id"],
            "created_at": start,
            "updated_at": start,
            "last_message_at": start,
        }
        for n in range(count)
    ]
    async with engine.begin() as connection:
        ids = list(await connection.scalars(insert(Conversation).returning(Conversation.id), rows))
        participants = [
            {"conversation_id": cid, "user_id": uid, "role": role, "joined_at": start}
            for cid in ids
            for uid, role in (
                (world["doctor_id"], ParticipantRole.INITIATOR),
                (world["portal_id"], ParticipantRole.PATIENT),
            )
        ]
        await connection.execute(insert(ConversationParticipant), participants)
    return ids


async def seed_messages(
    engine: AsyncEngine, world: dict[str, Any], conversation_ids: list[int], per_conversation: int
) -> None:
    """Patient messages, oldest first, each with an unread receipt for the doctor."""
    base = datetime.now(UTC) - timedelta(days=29)
    async with engine.begin() as connection:
        offset = await connection.scalar(select(func.count()).select_from(Message)) or 0
    batch: list[dict[str, Any]] = []
    for index in range(per_conversation * len(conversation_ids)):
        cid = conversation_ids[index % len(conversation_ids)]
        batch.append(
            {
                "uuid": uuid.uuid4(),
                "fhir_id": f"bench-message-{offset + index}",
                "conversation_id": cid,
                "sender_id": world["portal_id"],
                "type": "text",
                "body": f"Benchmark message {index}",
                "created_at": base + timedelta(seconds=offset + index),
            }
        )
        if len(batch) == CHUNK:
            await insert_messages(engine, world, batch)
            batch = []
    if batch:
        await insert_messages(engine, world, batch)
    async with engine.begin() as connection:
        latest = (
            select(func.max(Message.id))
            .where(Message.conversation_id == Conversation.id)
            .scalar_subquery()
        )
        latest_at = (
            select(func.max(Message.created_at))
            .where(Message.conversation_id == Conversation.id)
            .scalar_subquery()
        )
        await connection.execute(
            update(Conversation).values(last_message_id=latest, last_message_at=latest_at)
        )


async def insert_messages(
    engine: AsyncEngine, world: dict[str, Any], batch: list[dict[str, Any]]
) -> None:
    async with engine.begin() as connection:
        ids = list(await connection.scalars(insert(Message).returning(Message.id), batch))
        await connection.execute(
            insert(MessageReceipt),
            [
                {
                    "message_id": mid,
                    "user_id": world["doctor_id"],
                    "conversation_id": row["conversation_id"],
                }
                for mid, row in zip(ids, batch, strict=True)
            ],
        )


async def measure_reads(
    client: httpx.AsyncClient, world: dict[str, Any], label: str, thread_id: int
) -> list[Figures]:
    doctor = world["doctor"]

    async def inbox(_: int) -> None:
        await api(client, "GET", "/api/v1/conversations?limit=50", doctor)

    async def thread(_: int) -> None:
        await api(client, "GET", f"/api/v1/conversations/{thread_id}/messages?limit=50", doctor)

    await run_timed(inbox, operations=10, concurrency=1)
    return [
        summarise(
            f"inbox page ({label})",
            [await run_timed(inbox, operations=200, concurrency=1)],
            concurrency=1,
        ),
        summarise(
            f"thread page ({label})",
            [await run_timed(thread, operations=200, concurrency=1)],
            concurrency=1,
        ),
    ]


async def measure_sends(
    client: httpx.AsyncClient,
    world: dict[str, Any],
    settings_env: dict[str, str],
    label: str,
    sends: int,
) -> list[Figures]:
    conversation_id = world["conversation"]["id"]
    header_fhir_id = world["conversation"]["fhir_id"]

    async def send(index: int) -> None:
        await api(
            client, "POST", f"/api/v1/conversations/{conversation_id}/messages", world["doctor"],
            json={"text": f"Send {index} of the benchmark"},
        )  # fmt: skip

    engine = create_engine(settings_env["PARLEY_DATABASE_URL"])
    fhir = create_gateway(
        settings_env["PARLEY_FHIR_URL"], sessionmaker=create_sessionmaker(engine),
        connect_timeout=5, read_timeout=60,
    )  # fmt: skip

    async def raw_create(index: int) -> None:
        record = MessageRecord(
            uuid=uuid.uuid4(), header_fhir_id=header_fhir_id, patient_id=world["patient_id"],
            sender=Party("user", world["doctor_id"]), sent=datetime.now(UTC), text=f"Raw {index}",
        )  # fmt: skip
        await fhir.create_if_none_exist(
            build_message(record), identifier=message_identifier(record.uuid)
        )

    figures: list[Figures] = []
    for clients in (1, 8):
        samples: dict[str, list[Sample]] = {"send": [], "raw": []}
        for _ in range(2):  # alternate, so warm-up and noise fall on both alike
            samples["send"].append(
                await run_timed(send, operations=sends // 2, concurrency=clients)
            )
            samples["raw"].append(
                await run_timed(raw_create, operations=sends // 2, concurrency=clients)
            )
        figures.append(summarise(f"send via API ({label})", samples["send"], concurrency=clients))
        figures.append(summarise(f"raw FHIR create ({label})", samples["raw"], concurrency=clients))
    await fhir.aclose()
    await engine.dispose()
    return figures


async def benchmark(
    database_url: str | None, fhir_url: str, conversations: int, messages: int, sends: int
) -> list[Figures]:
    async with served(
        database_url, PARLEY_FHIR_URL=fhir_url, PARLEY_LOGIN_FAILURES_PER_ADDRESS="100000"
    ) as (base_url, env):
        await run_command(
            "create-admin",
            "--username",
            "bench_admin",
            "--email",
            "bench@example.org",
            "--password",
            PASSWORD,
            env=env,
        )
        engine = create_engine(env["PARLEY_DATABASE_URL"])
        figures: list[Figures] = []
        async with httpx.AsyncClient(base_url=base_url, timeout=120) as client:
            world = await build_world(client)
            print(f"seeding {conversations} conversations ...", flush=True)
            ids = await seed_conversations(engine, world, conversations)
            await seed_messages(engine, world, ids, per_conversation=1)
            label = f"{conversations} messages"
            figures += await measure_reads(client, world, label, ids[0])
            figures += await measure_sends(
                client, world, env | {"PARLEY_FHIR_URL": fhir_url}, label, sends
            )
            print(f"seeding up to {messages} messages ...", flush=True)
            await seed_messages(engine, world, ids, per_conversation=messages // conversations - 1)
            label = f"{messages} messages"
            figures += await measure_reads(client, world, label, ids[0])
            figures += await measure_sends(
                client, world, env | {"PARLEY_FHIR_URL": fhir_url}, label, sends
            )
        await engine.dispose()
        return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    parser.add_argument("--fhir-url", default="embedded")
    parser.add_argument("--conversations", type=int, default=1_000)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--sends", type=int, default=400)
    arguments = parser.parse_args()
    figures = asyncio.run(
        benchmark(
            arguments.database_url,
            arguments.fhir_url,
            arguments.conversations,
            arguments.messages,
            arguments.sends,
        )
    )
    for line in figures:
        print(line.line())
    for first, second in zip(figures[2::2], figures[3::2], strict=False):
        if first.name.startswith("send") and second.name.startswith("raw"):
            ratio = first.p50_ms / second.p50_ms
            print(f"  {first.name} c={first.concurrency}: p50 x{ratio:.2f} of raw FHIR")
    report = write_report(
        "messaging",
        figures,
        database_url=arguments.database_url or "sqlite",
        fhir_url=arguments.fhir_url,
    )
    print(f"report: {report}")


if __name__ == "__main__":
    main()
