"""Rebuild the SQL projection of conversations and messages from FHIR alone.

FHIR is the record; the rows are a projection of it. `reproject` finds Parley's
Communications by their tags (and, for a reconcile, by `_lastUpdated`), and
writes whatever rows are missing, keyed by the Parley identifiers, so running
it twice changes nothing. Receipts and read markers exist only in SQL: rows
made here start unread.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import UUID

from fhir.resources.R4B.communication import Communication
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.audit import log as audit
from app.audit.log import AuditEntry
from app.auth import service as users
from app.auth.models import User
from app.fhir.protocol import FhirGateway, SearchParams
from app.fhir.resources import (
    CONVERSATION_TAG,
    MESSAGE_TAG,
    ConversationHeader,
    MessageRecord,
    conversation_identifier,
    parse_conversation_header,
    parse_message,
    thread_search,
)
from app.messaging import repository as rows
from app.messaging.models import Conversation, ConversationStatus, ParticipantRole
from app.messaging.service import project_message
from app.patients import service as patients

Progress = Callable[[str], None]


@dataclass
class ReprojectReport:
    conversations_created: int = 0
    conversations_seen: int = 0
    messages_created: int = 0
    messages_seen: int = 0
    skipped: list[str] = field(default_factory=list)


async def reproject(
    sessionmaker: async_sessionmaker[AsyncSession],
    fhir: FhirGateway,
    *,
    conversation: UUID | None = None,
    since: datetime | None = None,
    progress: Progress | None = None,
) -> ReprojectReport:
    report = ReprojectReport()
    tick = progress or (lambda _: None)
    headers = [
        parse_conversation_header(resource)
        async for resource in fhir.search(Communication, _header_search(conversation, since))
    ]
    for header in headers:
        async with sessionmaker() as session, session.begin():
            await _project_header(session, header, report)
        tick("conversation")
    messages = await _messages_to_project(fhir, headers, conversation=conversation, since=since)
    for record in sorted(messages, key=lambda message: (message.sent, str(message.uuid))):
        async with sessionmaker() as session, session.begin():
            await _project_message(session, fhir, record, report)
        tick("message")
    return report


def _header_search(conversation: UUID | None, since: datetime | None) -> SearchParams:
    params = [("_tag", str(CONVERSATION_TAG)), ("_count", "100")]
    if conversation is not None:
        params.append(("identifier", str(conversation_identifier(conversation))))
    if since is not None:
        params.append(("_lastUpdated", f"ge{since.isoformat()}"))
    return params


async def _messages_to_project(
    fhir: FhirGateway,
    headers: list[ConversationHeader],
    *,
    conversation: UUID | None,
    since: datetime | None,
) -> list[MessageRecord]:
    if conversation is not None:
        return [
            parse_message(resource)
            for header in headers
            async for resource in fhir.search(Communication, thread_search(str(header.fhir_id)))
        ]
    params = [("_tag", str(MESSAGE_TAG)), ("_count", "100")]
    if since is not None:
        params.append(("_lastUpdated", f"ge{since.isoformat()}"))
    return [parse_message(resource) async for resource in fhir.search(Communication, params)]


async def _project_header(
    session: AsyncSession, header: ConversationHeader, report: ReprojectReport
) -> Conversation | None:
    report.conversations_seen += 1
    if not await patients.patient_exists(session, header.patient_id):
        report.skipped.append(f"conversation {header.uuid}: patient {header.patient_id} unknown")
        return None
    row = await rows.conversation_by_uuid(session, header.uuid)
    if row is None:
        row = await rows.add_conversation(session, _conversation_from(header))
        report.conversations_created += 1
    if header.closed:
        row.status = ConversationStatus.CLOSED
    row.subject = header.subject
    await _project_participants(session, row, header)
    await rows.add_organisations(session, row.id, set(header.organisation_ids))
    return row


def _conversation_from(header: ConversationHeader) -> Conversation:
    # Provisional times: the messages, projected oldest first, move them forward.
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return Conversation(
        uuid=header.uuid,
        fhir_id=header.fhir_id,
        patient_id=header.patient_id,
        subject=header.subject,
        status=ConversationStatus.NEW,
        created_by_id=header.initiator.id if header.initiator else None,
        created_at=epoch,
        updated_at=epoch,
        last_message_at=epoch,
    )


async def _project_participants(
    session: AsyncSession, conversation: Conversation, header: ConversationHeader
) -> None:
    present = await rows.participant_keys(session, conversation.id)
    for party in header.recipients:
        if (party.kind, party.id) in present:
            continue
        if party.kind == "user":
            role = ParticipantRole.MEMBER
            if header.initiator == party:
                role = ParticipantRole.INITIATOR
            elif party.patient_id is not None:
                role = ParticipantRole.PATIENT
            await rows.add_user_participant(session, conversation, party.id, role)
        else:
            await rows.add_group_participant(session, conversation, party.id)


async def _project_message(
    session: AsyncSession, fhir: FhirGateway, record: MessageRecord, report: ReprojectReport
) -> None:
    report.messages_seen += 1
    if await rows.message_exists(session, record.uuid):
        return
    conversation = await rows.conversation_by_fhir_id(session, record.header_fhir_id)
    if conversation is None:
        header = parse_conversation_header(await fhir.read(Communication, record.header_fhir_id))
        conversation = await _project_header(session, header, report)
    sender = await _sender(session, record)
    if conversation is None or sender is None:
        report.skipped.append(f"message {record.uuid}: conversation or sender unknown")
        return
    amends_id = await _amended_row(session, fhir, record, report)
    if conversation.last_message_id is None:
        conversation.created_at = record.sent  # a conversation begins with its first message
    await project_message(
        session, conversation, record, sender=sender, amends_id=amends_id, audit_action=None
    )
    audit.record(
        session,
        AuditEntry(
            action="messages.reproject",
            patient_id=conversation.patient_id,
            conversation_id=conversation.id,
            details={"message_uuid": str(record.uuid)},
        ),
    )
    report.messages_created += 1


async def _sender(session: AsyncSession, record: MessageRecord) -> User | None:
    found = await users.users_by_ids(session, [record.sender.id])
    return found[0] if found else None


async def _amended_row(
    session: AsyncSession, fhir: FhirGateway, record: MessageRecord, report: ReprojectReport
) -> int | None:
    if record.amends_fhir_id is None:
        return None
    amended = await rows.message_id_by_fhir_id(session, record.amends_fhir_id)
    if amended is None:
        original = parse_message(await fhir.read(Communication, record.amends_fhir_id))
        await _project_message(session, fhir, original, report)
        amended = await rows.message_id_by_fhir_id(session, record.amends_fhir_id)
    return amended
