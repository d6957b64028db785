"""A large messaging world written straight into SQL, for measuring reads at scale.

Reads are served by SQL alone, so that is where the volume goes: patients, their
memberships, conversations with participants and organisations, messages and receipts.
One organisation holds every patient and conversation; an author takes part in every
conversation and a GP (staff of a partner organisation) in only a few.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from app.conversations.models import (
    Conversation,
    ConversationOrganisation,
    ConversationParticipant,
    ConversationStatus,
    ParticipantRole,
)
from app.directory.organisations import PatientMembership
from app.directory.patients import PatientMetadata
from app.messaging.models import Message, MessageReceipt
from app.pagination import encode_cursor

CHUNK = 5_000
UNREAD_AT_THE_END = CHUNK


@dataclass(frozen=True)
class Cast:
    organisation_id: int  # holds every patient and conversation
    partner_id: int  # the GP's organisation: it holds the GP's patients too
    author_id: int  # takes part in every conversation and sends every message
    gp_id: int  # takes part in `gp_conversations` of them


async def _insert(engine: AsyncEngine, model: Any, rows: list[dict[str, Any]]) -> list[int]:
    ids: list[int] = []
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        async with engine.begin() as connection:
            if hasattr(model, "id"):
                ids += list(await connection.scalars(insert(model).returning(model.id), chunk))
            else:
                await connection.execute(insert(model), chunk)
    return ids


async def seed(
    engine: AsyncEngine,
    cast: Cast,
    *,
    patients: int,
    conversations: int,
    messages: int,
    gp_conversations: int,
    big_thread: int,
    progress: Any = print,
) -> list[int]:
    """The world; answers the conversation ids, the GP's first."""
    start = datetime.now(UTC) - timedelta(days=60)
    patient_ids = [f"bench-patient-{n}" for n in range(patients)]
    progress(f"seeding {patients} patients ...")
    await _insert(
        engine,
        PatientMetadata,
        [
            {"patient_id": pid, "given_name": "Bench", "family_name": f"Patient {n}",
             "created_at": start, "updated_at": start}
            for n, pid in enumerate(patient_ids)
        ],
    )  # fmt: skip
    memberships = [
        {"organisation_id": cast.organisation_id, "patient_id": pid, "is_primary": True,
         "created_at": start}
        for pid in patient_ids
    ]  # fmt: skip
    memberships += [
        {"organisation_id": cast.partner_id, "patient_id": patient_ids[n % patients],
         "is_primary": False, "created_at": start}
        for n in range(min(gp_conversations, patients))
    ]  # fmt: skip
    await _insert(engine, PatientMembership, memberships)
    progress(f"seeding {conversations} conversations ...")
    ids = await _insert(
        engine,
        Conversation,
        [
            {"uuid": uuid.uuid4(), "fhir_id": f"bench-conversation-{n}",
             "patient_id": patient_ids[n % patients], "subject": f"Bench {n}",
             "status": ConversationStatus.ACTIVE, "created_by_id": cast.author_id,
             "created_at": start, "updated_at": start, "last_message_at": start}
            for n in range(conversations)
        ],
    )  # fmt: skip
    participants = [
        {"conversation_id": cid, "user_id": cast.author_id, "role": ParticipantRole.INITIATOR,
         "joined_at": start}
        for cid in ids
    ]  # fmt: skip
    participants += [
        {"conversation_id": cid, "user_id": cast.gp_id, "role": ParticipantRole.MEMBER,
         "joined_at": start}
        for cid in ids[:gp_conversations]
    ]  # fmt: skip
    await _insert(engine, ConversationParticipant, participants)
    await _insert(
        engine,
        ConversationOrganisation,
        [
            {"conversation_id": cid, "organisation_id": cast.organisation_id, "joined_at": start}
            for cid in ids
        ],
    )
    progress(f"seeding {messages} messages ...")
    gp_set = set(ids[:gp_conversations])
    batch: list[dict[str, Any]] = []
    for index in range(messages):
        # The first conversation is one long thread; the rest share what is left.
        cid = ids[0] if index < big_thread else ids[index % len(ids)]
        batch.append(
            {"uuid": uuid.uuid4(), "fhir_id": f"bench-message-{index}", "conversation_id": cid,
             "sender_id": cast.author_id, "type": "text", "body": f"Benchmark message {index}",
             "created_at": start + timedelta(seconds=index)}
        )  # fmt: skip
        if len(batch) == CHUNK or index == messages - 1:
            message_ids = await _insert(engine, Message, batch)
            # The GP has read all but what came in the last few thousand messages.
            read_at = start if index < messages - UNREAD_AT_THE_END else None
            receipts = [
                {"message_id": mid, "user_id": cast.gp_id,
                 "conversation_id": row["conversation_id"],
                 "delivered_at": read_at, "read_at": read_at}
                for mid, row in zip(message_ids, batch, strict=True)
                if row["conversation_id"] in gp_set
            ]  # fmt: skip
            if receipts:
                await _insert(engine, MessageReceipt, receipts)
            batch = []
    progress("pointing conversations at their newest messages ...")
    async with engine.begin() as connection:
        newest = (
            select(Message.conversation_id, func.max(Message.id).label("last_id"),
                   func.max(Message.created_at).label("last_at"))
            .group_by(Message.conversation_id)
            .subquery()
        )  # fmt: skip
        await connection.execute(
            update(Conversation)
            .where(Conversation.id == newest.c.conversation_id)
            .values(last_message_id=newest.c.last_id, last_message_at=newest.c.last_at)
        )
    return ids


async def cursor_halfway(engine: AsyncEngine, conversation_id: int) -> str:
    """A `before` cursor halfway back through a thread."""
    async with engine.connect() as connection:
        total = await connection.scalar(
            select(func.count()).where(Message.conversation_id == conversation_id)
        )
        row = (
            await connection.execute(
                select(Message.created_at, Message.id)
                .where(Message.conversation_id == conversation_id)
                .order_by(Message.created_at.desc(), Message.id.desc())
                .offset((total or 0) // 2)
                .limit(1)
            )
        ).one()
    return encode_cursor(row.created_at.isoformat(), row.id)
