"""Sending a message or an attachment (FHIR first, then SQL), and corrections of one."""

import dataclasses
import hashlib
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.access import service as access
from app.access.actions import Action
from app.accounts.models import User
from app.audit import log as audit
from app.audit.log import AuditEntry
from app.conversations.models import Priority
from app.db import end_reads
from app.errors import ConflictError, InvalidInputError
from app.fhir.protocol import BinaryContent, FhirGateway
from app.fhir.resources import (
    AttachmentRef,
    MessageRecord,
    Party,
    build_message,
    build_revision,
    message_identifier,
    parse_message,
)
from app.idempotency import keys as idempotency
from app.idempotency.keys import KeyedRequest
from app.media.preparation import prepare
from app.media.workers import MediaWorkers
from app.messaging import (
    conversations,
    projection,
    projector,
    repository,
    thread_view,
    write_path,
)
from app.messaging.clock import reserve_send_time
from app.messaging.gate import ConversationView, load_view, refuse_if_closed
from app.messaging.models import Message
from app.messaging.schemas import (
    AttachmentRead,
    MessageCreate,
    MessageRead,
    PersonRead,
    StatusUpdate,
)
from app.messaging.task_record import DoneWork


async def send_message(
    session: AsyncSession,
    fhir: FhirGateway,
    user: User,
    conversation_id: int,
    data: MessageCreate,
    request: KeyedRequest | None,
) -> MessageRead:
    view = await load_view(session, user, conversation_id, Action.CONVERSATION_WRITE)
    if (earlier := await idempotency.earlier_answer(session, request)) is not None:
        return MessageRead.model_validate_json(earlier)
    refuse_if_closed(view)
    urgent = _urgent(session, view, data)
    amended = await _amendable(session, view, data.amends_id)
    recipients = await _recipients(session, view)
    reopening = await _done_work_to_reopen(session, view)
    if urgent and view.conversation.priority is not Priority.URGENT:
        # An urgent message makes its conversation urgent (its header first, as a PATCH
        # does): the team sees it first in every view.
        raised = StatusUpdate(priority=Priority.URGENT)
        await conversations.change_status(session, fhir, user, conversation_id, raised)
    sent = await reserve_send_time(session, conversation_id)
    await session.commit()  # the gate's reads and the clock: nothing waits on FHIR
    record = projection.text_message(
        uuid=idempotency.uuid_for(request, f"message in {view.conversation.uuid}"),
        header_fhir_id=view.conversation.fhir_id,
        patient_id=view.conversation.patient_id,
        sender=user,
        recipients=recipients,
        sent=sent,
        text=data.text,
        amends_fhir_id=amended.fhir_id if amended else None,
        priority=Priority.URGENT.value if urgent else None,
    )
    return await _write(
        session, fhir, view, record, request, amends_id=data.amends_id, reopening=reopening
    )


@dataclass(frozen=True)
class Upload:
    """A file sent as a message, with optional text, as it arrived."""

    data: bytes
    declared_type: str | None
    filename: str | None
    text: str | None

    def fingerprint(self) -> bytes:
        """What makes two uploads the same request (for Idempotency-Key)."""
        parts = (self.declared_type or "", self.filename or "", self.text or "")
        return hashlib.sha256(self.data).digest() + "\0".join(parts).encode()


async def send_attachment(
    session: AsyncSession,
    fhir: FhirGateway,
    user: User,
    conversation_id: int,
    upload: Upload,
    request: KeyedRequest | None,
    *,
    workers: MediaWorkers,
) -> MessageRead:
    """An image or voice note: the bytes become a FHIR Binary (under an id derived from the
    message, so a retry makes no second one), then the message that points at it."""
    view = await load_view(session, user, conversation_id, Action.CONVERSATION_ATTACH)
    if (earlier := await idempotency.earlier_answer(session, request)) is not None:
        return MessageRead.model_validate_json(earlier)
    refuse_if_closed(view)
    recipients = await _recipients(session, view)
    reopening = await _done_work_to_reopen(session, view)
    await end_reads(session)
    # Decoding untrusted bytes happens in a worker process, bounded in memory and time.
    prepared = await prepare(
        upload.data, declared_type=upload.declared_type, filename=upload.filename, workers=workers
    )
    message_uuid = idempotency.uuid_for(request, f"message in {view.conversation.uuid}")
    binary_id = f"parley-{message_uuid.hex}"
    guard = f"Communication/{view.conversation.fhir_id}"  # who may see the thread sees it
    await fhir.put_binary(
        binary_id, BinaryContent(prepared.content_type, prepared.data, security_context=guard)
    )
    sent = await reserve_send_time(session, conversation_id)
    await session.commit()
    record = dataclasses.replace(
        projection.text_message(
            uuid=message_uuid,
            header_fhir_id=view.conversation.fhir_id,
            patient_id=view.conversation.patient_id,
            sender=user,
            recipients=recipients,
            sent=sent,
            text=upload.text or "",
        ),
        text=upload.text or None,
        attachment=AttachmentRef(
            binary_id=binary_id,
            content_type=prepared.content_type,
            size=len(prepared.data),
            sha1_base64=prepared.sha1_base64,
            title=prepared.title,
            duration_ms=prepared.duration_ms,
        ),
    )
    return await _write(session, fhir, view, record, request, amends_id=None, reopening=reopening)


async def _recipients(session: AsyncSession, view: ConversationView) -> tuple[Party, ...]:
    taking_part = await repository.participants(session, view.conversation.id)
    return projection.recipients_of(taking_part, view.user)


def _urgent(session: AsyncSession, view: ConversationView, data: MessageCreate) -> bool:
    """Urgency is the care team's to give, as for a conversation: a patient's emergency is
    for 999 or 111, which their page says wherever they write. A refusal is audited."""
    if data.priority is not Priority.URGENT:
        return False
    if not view.may(Action.CONVERSATION_CHANGE_STATUS):
        audit.record_refusal(
            session,
            AuditEntry(
                action="messages.send",
                outcome=audit.DENIED,
                reason="urgent-not-allowed",
                actor_id=view.user.id,
                patient_id=view.conversation.patient_id,
                conversation_id=view.conversation.id,
            ),
        )
        raise InvalidInputError(
            "Only the care team sends a message as urgent.", field=("body", "priority")
        )
    return True


async def _done_work_to_reopen(session: AsyncSession, view: ConversationView) -> DoneWork | None:
    """A patient's message opens done work again (the projection's REOPEN_DONE): its Task
    must say so in FHIR too."""
    if view.actor.is_staff:
        return None
    return await DoneWork.of(session, view.conversation)


async def _write(
    session: AsyncSession,
    fhir: FhirGateway,
    view: ConversationView,
    record: MessageRecord,
    request: KeyedRequest | None,
    *,
    amends_id: int | None,
    reopening: DoneWork | None,
) -> MessageRead:
    conversation = view.conversation
    if reopening is not None:
        await reopening.reopen(fhir)
    stored = await write_path.create_first(
        fhir,
        build_message(record),
        identifier=message_identifier(record.uuid),
        parse=parse_message,
        is_own=lambda found: (
            found.header_fhir_id == conversation.fhir_id and found.sent_by(view.user.id)
        ),
    )

    if stored.amends_fhir_id is not None:
        await fhir.put(build_revision(stored))

    async def project() -> MessageRead:
        if amends_id is not None:  # checked again where no other send can interleave
            await repository.lock_conversation(session, conversation.id)
            await _refuse_unless_latest(session, amends_id)
        projected = await projector.project_message(
            session,
            conversation_id=conversation.id,
            patient_id=conversation.patient_id,
            record=stored,
            sender_id=view.user.id,
            amends_id=amends_id,
        )
        answer = _just_sent(stored, projected, conversation.id, view.user, amends_id)
        idempotency.remember(session, request, 201, answer.model_dump_json())
        return answer

    async def projected_before() -> MessageRead | None:
        if (earlier := await idempotency.earlier_answer(session, request)) is not None:
            return MessageRead.model_validate_json(earlier)
        existing = await repository.thread_row_by_uuid(session, stored.uuid)
        if existing is None:
            return None
        answer = thread_view.message_read(existing, for_staff=view.actor.is_staff)
        idempotency.remember(session, request, 201, answer.model_dump_json())
        return answer

    return await write_path.project_once(
        session, project, projected_before=projected_before, keep=(view.user, conversation)
    )


def _just_sent(
    record: MessageRecord,
    projected: projector.ProjectedMessage,
    conversation_id: int,
    sender: User,
    amends_id: int | None,
) -> MessageRead:
    """The answer to a send, from what was just written: nobody has read it yet."""
    attachment = record.attachment
    return MessageRead(
        id=projected.id,
        fhir_id=str(record.fhir_id),
        conversation_id=conversation_id,
        sender=PersonRead(id=sender.id, name=sender.full_name),
        type=projected.type,
        text=record.text,
        attachment=AttachmentRead(
            id=projected.id,
            content_type=attachment.content_type,
            size=attachment.size,
            title=attachment.title,
            duration_ms=attachment.duration_ms,
        )
        if attachment
        else None,
        amends_id=amends_id,
        amended_by_id=None,
        sent_at=record.sent,
        delivered_to=[],
        read_by=[],
        urgent=record.urgent,
    )


async def _amendable(
    session: AsyncSession, view: ConversationView, amends_id: int | None
) -> Message | None:
    if amends_id is None:
        return None
    original = await repository.get_message(session, view.conversation.id, amends_id)
    if original is None:
        raise InvalidInputError(
            "amends_id must name an earlier message of this conversation.",
            field=("body", "amends_id"),
        )
    if original.sender_id != view.user.id:
        raise access.refused(
            session,
            view.actor,
            Action.CONVERSATION_WRITE,
            target=view.conversation.id,
            patient_id=view.conversation.patient_id,
            reason="Only the sender of a message may amend it.",
        )
    await _refuse_unless_latest(session, original.id)
    return original


async def _refuse_unless_latest(session: AsyncSession, message_id: int) -> None:
    """Corrections form one chain: only its latest version may be corrected, so no message
    has two corrections that say different things."""
    latest = await repository.latest_version(session, message_id)
    if latest != message_id:
        raise ConflictError(
            f"Message {message_id} was corrected already; correct its latest version, "
            f"message {latest}.",
            extensions={"latest_id": latest},
        )
