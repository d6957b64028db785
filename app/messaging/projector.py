"""The one projector: FHIR's conversations and messages into the SQL rows that serve reads.

A live write and `parley reproject` both come here with what FHIR holds, so a rebuild
gives back the rows the live writes made, column for column. Receipts and read markers
are the exception: they are SQL's own (who read what), and a rebuild starts them unread.

Statements are SQLAlchemy Core, sent as they are built: a send is the hottest path of the
service, and the unit of work would cost several times more for the same rows.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import case, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.audit import log as audit
from app.audit.log import AuditEntry
from app.conversations.models import (
    Conversation,
    ConversationOrganisation,
    ConversationParticipant,
    ConversationStatus,
    ParticipantRole,
    Priority,
)
from app.db import CLIENT_ADDRESS, utc_now
from app.directory.groups import Group
from app.events import service as events
from app.fhir.resources import ConversationHeader, MessageRecord, Party
from app.messaging import clock, projection_pg, repository, statements
from app.messaging.models import MessageType

# Where a rebuilt conversation's times start before its first message is projected.
NOT_YET = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class ProjectedMessage:
    id: int
    type: MessageType


def role_of(header: ConversationHeader, party: Party) -> ParticipantRole:
    if header.initiator == party:
        return ParticipantRole.INITIATOR
    return ParticipantRole.PATIENT if party.patient_id is not None else ParticipantRole.MEMBER


async def insert_conversation(
    session: AsyncSession, header: ConversationHeader, *, started: datetime = NOT_YET
) -> int:
    """The conversation's row, then its participants and organisations; `started` is its
    first message's time, when known (a rebuild learns it from the messages)."""
    status = ConversationStatus.NEW
    if header.closed:
        status = ConversationStatus.CLOSED
    elif header.status_changed is not None:  # reopened: it was under way
        status = ConversationStatus.ACTIVE
    initiator = header.initiator
    conversation_id: int = (
        await session.execute(
            insert(Conversation)
            .values(
                uuid=header.uuid,
                fhir_id=header.fhir_id,
                patient_id=header.patient_id,
                subject=header.subject,
                status=status,
                priority=Priority.URGENT if header.urgent else Priority.ROUTINE,
                created_by_id=initiator.id if initiator and initiator.kind == "user" else None,
                created_at=started,
                updated_at=max(started, header.status_changed or started),
                last_message_at=started,
            )
            .returning(Conversation.id)
        )
    ).scalar_one()
    await _add_parties(session, conversation_id, header, started, present=set())
    await _add_organisations(session, conversation_id, header, started, present=set())
    return conversation_id


async def apply_header(
    session: AsyncSession, conversation: Conversation, header: ConversationHeader
) -> None:
    """A later version of the header: its status, subject, and whoever joined since.

    Status and time are decided in SQL against the row as it is now: a send may have
    moved them since the caller read it (a reply wakes a `new` conversation)."""
    status: Any = ConversationStatus.CLOSED.value
    if not header.closed:  # reopened, or still open: as it was, but never closed
        status = case(
            (Conversation.status == ConversationStatus.CLOSED, ConversationStatus.ACTIVE.value),
            else_=Conversation.status,
        )
    changed = header.status_changed
    updated: Any = Conversation.updated_at
    if changed is not None:
        updated = case((Conversation.updated_at < changed, changed), else_=Conversation.updated_at)
    await session.execute(
        update(Conversation)
        .where(Conversation.id == conversation.id)
        .values(
            subject=header.subject,
            status=status,
            updated_at=updated,
            priority=Priority.URGENT if header.urgent else Priority.ROUTINE,
        )
        .execution_options(synchronize_session=False)
    )
    await session.refresh(conversation)
    started = conversation.created_at
    present_parties = await repository.participant_keys(session, conversation.id)
    await _add_parties(session, conversation.id, header, started, present=present_parties)
    present = set(await repository.organisation_ids(session, conversation.id))
    await _add_organisations(session, conversation.id, header, started, present=present)


async def _add_parties(
    session: AsyncSession,
    conversation_id: int,
    header: ConversationHeader,
    started: datetime,
    *,
    present: set[tuple[str, int]],
) -> None:
    """The recipients not yet taking part; a user or group Parley does not know is left
    out (another system may name people of its own)."""
    wanted = [party for party in header.recipients if (party.kind, party.id) not in present]
    if not wanted:
        return
    users = {party.id for party in wanted if party.kind == "user"}
    groups = {party.id for party in wanted if party.kind == "group"}
    known_users = set(await session.scalars(select(User.id).where(User.id.in_(users))))
    known_groups = set(await session.scalars(select(Group.id).where(Group.id.in_(groups))))
    rows = [
        {
            "conversation_id": conversation_id,
            "user_id": party.id if party.kind == "user" else None,
            "group_id": party.id if party.kind == "group" else None,
            "role": role_of(header, party),
            "joined_at": header.joined.get((party.kind, party.id), started),
        }
        for party in wanted
        if party.id in (known_users if party.kind == "user" else known_groups)
    ]
    if rows:
        await session.execute(insert(ConversationParticipant), rows)


async def _add_organisations(
    session: AsyncSession,
    conversation_id: int,
    header: ConversationHeader,
    started: datetime,
    *,
    present: set[int],
) -> None:
    rows = [
        {
            "conversation_id": conversation_id,
            "organisation_id": organisation_id,
            "joined_at": header.organisations_joined.get(organisation_id, started),
        }
        for organisation_id in sorted(set(header.organisation_ids) - present)
    ]
    if rows:
        await session.execute(insert(ConversationOrganisation), rows)


async def settle_start(session: AsyncSession, conversation_id: int, started: datetime) -> None:
    """A rebuilt conversation learns from its first message when it began: the time its
    row, and the participants and organisations that came with it, started at."""
    await session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id, Conversation.created_at == NOT_YET)
        .values(created_at=started)
        .execution_options(synchronize_session=False)
    )
    for table in (ConversationParticipant, ConversationOrganisation):
        await session.execute(
            update(table)
            .where(table.conversation_id == conversation_id, table.joined_at == NOT_YET)
            .values(joined_at=started)
            .execution_options(synchronize_session=False)
        )


def from_patient(record: MessageRecord) -> bool:
    """Whether the message waits for a staff reply: a patient wrote it, through Parley or
    (as a Patient or their RelatedPerson) through another system."""
    sender = record.sender
    if isinstance(sender, Party):
        return sender.patient_id is not None
    return sender.resource_type in ("Patient", "RelatedPerson")


def answers_patient(record: MessageRecord, amends_id: int | None) -> bool:
    """Whether the message ends a patient's wait: a clinician's (Parley staff, or another
    system's Practitioner) that is not a correction of an earlier one."""
    if amends_id is not None:
        return False
    sender = record.sender
    if isinstance(sender, Party):
        return sender.patient_id is None
    return sender.resource_type in ("Practitioner", "PractitionerRole")


def message_type(record: MessageRecord) -> MessageType:
    if record.attachment is None:
        return MessageType.TEXT
    is_image = record.attachment.content_type.startswith("image/")
    return MessageType.IMAGE if is_image else MessageType.VOICE


async def project_message(
    session: AsyncSession,
    *,
    conversation_id: int,
    patient_id: str,
    record: MessageRecord,
    sender_id: int | None,
    sender_display: str | None = None,
    amends_id: int | None = None,
    audit_action: str | None = "messages.send",
) -> ProjectedMessage:
    """The SQL side of a send: the row, the conversation's pointers, the sender's read
    marker, a receipt for everyone else taking part, the live event, the audit row.
    Another system's message has no Parley sender (`sender_id` None) but a display name.

    Run on the session's connection: plain statements, with nothing for the ORM to track."""
    connection = await session.connection()
    attachment = record.attachment
    kind = message_type(record)
    row = {
        "uuid": record.uuid,
        "fhir_id": record.fhir_id,
        "conversation_id": conversation_id,
        "sender_id": sender_id,
        "sender_display": sender_display,
        "type": kind,
        "body": record.text,
        "amends_id": amends_id,
        "attachment_binary_id": attachment.binary_id if attachment else None,
        "attachment_content_type": attachment.content_type if attachment else None,
        "attachment_size": attachment.size if attachment else None,
        "attachment_sha1": attachment.sha1_base64 if attachment else None,
        "attachment_title": attachment.title if attachment else None,
        "attachment_duration_ms": attachment.duration_ms if attachment else None,
        "created_at": record.sent,
        "urgent": record.urgent,
    }
    values: dict[str, Any] = {f"m_{name}": value for name, value in row.items()} | {
        "conversation": conversation_id,
        "sent": record.sent,
        "sent_ms": clock.epoch_ms(record.sent),
        "sender": sender_id,
        "reader": sender_id,
        "read_at": record.sent,
        "from_patient": from_patient(record),
        "answers": answers_patient(record, amends_id),
    }
    if values["from_patient"]:
        await connection.execute(statements.REOPEN_DONE, values)
    if connection.dialect.name == "postgresql":
        message_id = await _project_in_one(session, values, patient_id, audit_action)
        return ProjectedMessage(message_id, kind)
    message_id = (await connection.execute(statements.INSERT_MESSAGE, values)).scalar_one()
    values["message"] = message_id
    await connection.execute(statements.MOVE_POINTERS, values)
    await connection.execute(statements.MARK_READ, values)
    await connection.execute(statements.ADD_RECEIPTS, values)
    await events.publish(
        session, "message.created", conversation_id, message_id=message_id, sender_id=sender_id
    )
    if audit_action is not None:
        await audit.record_at_once(
            session,
            AuditEntry(
                action=audit_action,
                actor_id=sender_id,
                patient_id=patient_id,
                conversation_id=conversation_id,
                details={"message_id": message_id},
            ),
        )
    return ProjectedMessage(message_id, kind)


async def _project_in_one(
    session: AsyncSession, values: dict[str, Any], patient_id: str, audit_action: str | None
) -> int:
    """PostgreSQL: the same rows in one statement (`projection_pg`)."""
    connection = await session.connection()
    statement = projection_pg.send_statement(audited=audit_action is not None)
    audited = {
        "now": utc_now(),
        "patient": patient_id,
        "audit_action": audit_action,
        "audit_outcome": audit.ALLOWED,
        "client_address": session.info.get(CLIENT_ADDRESS),
    }
    message_id, event_id, _ = (await connection.execute(statement, values | audited)).one()
    await events.after_publishing(session, event_id)
    return int(message_id)


async def mark_read_up_to(
    session: AsyncSession, conversation_id: int, user_id: int, read_at: datetime
) -> None:
    """Move a participant's read marker forward, never back."""
    connection = await session.connection()
    await connection.execute(
        statements.MARK_READ,
        {"conversation": conversation_id, "reader": user_id, "read_at": read_at},
    )
