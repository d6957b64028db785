"""A conversation's thread as a caller reads it, a page at a time, and the read marker
that reading moves."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.audit import log as audit
from app.audit.log import AuditEntry
from app.db import utc_now
from app.errors import InvalidInputError
from app.events import service as events
from app.messaging import projector, repository
from app.messaging.conversations import detail_of
from app.messaging.gate import ConversationView, load_view
from app.messaging.models import Message
from app.messaging.records import ThreadRow
from app.messaging.schemas import (
    AttachmentRead,
    ConversationDetail,
    MessageRead,
    PersonRead,
    ReadMarker,
    ReadResult,
)
from app.pagination import Page, decode_cursor, encode_cursor


async def list_messages(
    session: AsyncSession, user: User, conversation_id: int, *, before: str | None, limit: int
) -> Page[MessageRead]:
    """A page of the thread, oldest first; `before` pages back in time. Reading a page
    delivers its messages to the reader."""
    view = await load_view(session, user, conversation_id)
    return await _thread_page(session, view, before=before, limit=limit)


@dataclass(frozen=True)
class OpenedConversation:
    detail: ConversationDetail
    messages: Page[MessageRead]
    attachments_on: bool


async def open_conversation(
    session: AsyncSession, user: User, conversation_id: int, *, before: str | None, limit: int
) -> OpenedConversation:
    """What a page shows on opening a conversation: its detail and a page of the thread,
    which a participant has then read (when it is the newest page). One access check serves
    all three, as three API calls would each make their own."""
    view = await load_view(session, user, conversation_id)
    detail = await detail_of(session, view)
    messages = await _thread_page(session, view, before=before, limit=limit)
    if view.is_participant and before is None:
        await _mark_read(session, view, ReadMarker())
    return OpenedConversation(detail, messages, view.attachments_on)


async def _thread_page(
    session: AsyncSession, view: ConversationView, *, before: str | None, limit: int
) -> Page[MessageRead]:
    """Reading a page delivers its messages to the reader, and is audited: the two in one
    round trip on PostgreSQL, after the page (so exactly what it shows is delivered)."""
    conversation_id, reader = view.conversation.id, view.user.id
    cursor = decode_cursor(before, datetime, int, parameter="before") if before else None
    rows = await repository.thread_page(
        session, conversation_id, before=cursor, limit=limit + 1, reader_id=reader
    )
    page = rows[:limit]
    await audit.record_at_once(
        session,
        AuditEntry(
            action="messages.read_thread",
            actor_id=reader,
            patient_id=view.conversation.patient_id,
            conversation_id=conversation_id,
        ),
        along_with=repository.MARK_DELIVERED,
        parameters={
            "delivered_ids": [row.message.id for row in page],
            "delivered_to": reader,
            "delivered_at_time": utc_now(),
        },
    )
    oldest = page[-1].message if len(rows) > limit else None
    next_cursor = encode_cursor(oldest.created_at.isoformat(), oldest.id) if oldest else None
    items = [message_read(row, for_staff=view.actor.is_staff) for row in reversed(page)]
    return Page(items=items, next_cursor=next_cursor)


def message_read(row: ThreadRow, *, for_staff: bool) -> MessageRead:
    """A message as its reader sees it; whether it was sent as urgent is the care team's
    triage, as a conversation's priority is, and not shown to patients."""
    message = row.message
    return MessageRead(
        id=message.id,
        fhir_id=message.fhir_id,
        conversation_id=message.conversation_id,
        sender=PersonRead(id=message.sender_id, name=row.sender_name),
        type=message.type,
        text=message.body,
        attachment=_attachment_read(message),
        amends_id=message.amends_id,
        amended_by_id=row.amended_by,
        sent_at=message.created_at,
        delivered_to=row.delivered_to,
        read_by=row.read_by,
        urgent=message.urgent and for_staff,
    )


def _attachment_read(message: Message) -> AttachmentRead | None:
    if message.attachment_content_type is None:
        return None
    return AttachmentRead(
        id=message.id,
        content_type=message.attachment_content_type,
        size=message.attachment_size or 0,
        title=message.attachment_title,
        duration_ms=message.attachment_duration_ms,
    )


async def mark_read(
    session: AsyncSession, user: User, conversation_id: int, data: ReadMarker
) -> ReadResult:
    return await _mark_read(session, await load_view(session, user, conversation_id), data)


async def _mark_read(session: AsyncSession, view: ConversationView, data: ReadMarker) -> ReadResult:
    conversation_id, user = view.conversation.id, view.user
    if data.up_to_message_id is None:
        up_to = await repository.latest_message(session, conversation_id)
    else:
        up_to = await repository.get_message(session, conversation_id, data.up_to_message_id)
        if up_to is None:
            raise InvalidInputError(
                "up_to_message_id must name a message of this conversation.",
                field=("body", "up_to_message_id"),
            )
    if up_to is not None:
        newly_read = await repository.mark_read(
            session, user_id=user.id, conversation_id=conversation_id, up_to=up_to, now=utc_now()
        )
        await projector.mark_read_up_to(session, conversation_id, user.id, up_to.created_at)
        # Only news is an event: a page that refreshes on `message.read` and marks what it
        # shows as read would otherwise wake itself, and every other open page, forever.
        if newly_read:
            await events.publish(
                session,
                "message.read",
                conversation_id,
                user_id=user.id,
                up_to_message_id=up_to.id,
            )
    unread = await repository.unread_counts(session, user.id, [conversation_id])
    return ReadResult(conversation_id=conversation_id, unread_count=unread.get(conversation_id, 0))
