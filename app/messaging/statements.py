"""The statements of a send, built once: every value is a named parameter bound at
execution. Building and cache-keying a statement costs more than running it, and a send
runs several. `projector` runs them one by one; `projection_pg` joins them in one."""

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    Integer,
    Select,
    Update,
    and_,
    bindparam,
    case,
    insert,
    null,
    or_,
    select,
    update,
)

from app.accounts.models import User
from app.conversations.models import (
    Conversation,
    ConversationParticipant,
    ConversationStatus,
    ConversationTask,
    TaskStatus,
)
from app.db import UtcDateTime
from app.directory.groups import GroupMember
from app.messaging.models import Message, MessageReceipt

MESSAGE_COLUMNS = (
    "uuid", "fhir_id", "conversation_id", "sender_id", "sender_display", "type", "body",
    "amends_id", "attachment_binary_id", "attachment_content_type", "attachment_size",
    "attachment_sha1", "attachment_title", "attachment_duration_ms", "created_at", "urgent",
)  # fmt: skip
# Parameters are named `m_<column>`: a parameter may not share a column's name here.
INSERT_MESSAGE = (
    insert(Message)
    .values(
        {
            name: bindparam(f"m_{name}", type_=Message.__table__.c[name].type)
            for name in MESSAGE_COLUMNS
        }
    )
    .returning(Message.id)
)


def _sent() -> ColumnElement[Any]:
    return bindparam("sent", type_=UtcDateTime)


def move_pointers(message_id: ColumnElement[Any]) -> Update:
    """Move the conversation's newest-message pointer forward (never back) and wake a
    `new` conversation on a reply, in one statement: concurrent sends lose no update."""
    newer = Conversation.last_message_at <= _sent()
    # The sender is None for another system's message: a reply all the same.
    reply = and_(
        Conversation.status == ConversationStatus.NEW,
        or_(
            Conversation.created_by_id.is_(None),
            Conversation.created_by_id.is_distinct_from(bindparam("sender", type_=Integer)),
        ),
    )
    waiting = Conversation.awaiting_reply_since
    answered = and_(bindparam("answers", type_=Boolean), waiting <= _sent())
    return (
        update(Conversation)
        .where(Conversation.id == bindparam("conversation", type_=Integer))
        .values(
            # A patient's message starts the wait unless an older one is unanswered; a
            # clinician's reply sent after it ends it (a correction does not).
            awaiting_reply_since=case(
                (
                    bindparam("from_patient", type_=Boolean),
                    case((or_(waiting.is_(None), waiting > _sent()), _sent()), else_=waiting),
                ),
                (answered, null()),
                else_=waiting,
            ),
            # The reply that ends the wait ends its escalation (app/messaging/escalation.py).
            overdue_since=case((answered, null()), else_=Conversation.overdue_since),
            last_message_at=case((newer, _sent()), else_=Conversation.last_message_at),
            last_message_id=case((newer, message_id), else_=Conversation.last_message_id),
            updated_at=case(
                (Conversation.updated_at < _sent(), _sent()), else_=Conversation.updated_at
            ),
            status=case((reply, ConversationStatus.ACTIVE.value), else_=Conversation.status),
            last_sent_ms=case(
                (Conversation.last_sent_ms >= bindparam("sent_ms"), Conversation.last_sent_ms),
                else_=bindparam("sent_ms", type_=BigInteger),
            ),
        )
    )


MOVE_POINTERS = move_pointers(bindparam("message", type_=BigInteger))

# Move a participant's read marker forward, never back.
MARK_READ = (
    update(ConversationParticipant)
    .where(
        ConversationParticipant.conversation_id == bindparam("conversation", type_=Integer),
        ConversationParticipant.user_id == bindparam("reader", type_=Integer),
        or_(
            ConversationParticipant.last_read_at.is_(None),
            ConversationParticipant.last_read_at < bindparam("read_at", type_=UtcDateTime),
        ),
    )
    .values(last_read_at=bindparam("read_at", type_=UtcDateTime))
)


def recipients(message_id: ColumnElement[Any]) -> Select[Any]:
    """A receipt's columns for every active user who takes part, in person or through a
    group, but the sender."""
    conversation = bindparam("conversation", type_=Integer)
    direct = select(ConversationParticipant.user_id).where(
        ConversationParticipant.conversation_id == conversation,
        ConversationParticipant.user_id.is_not(None),
    )
    through_groups = (
        select(GroupMember.user_id)
        .join(ConversationParticipant, ConversationParticipant.group_id == GroupMember.group_id)
        .where(ConversationParticipant.conversation_id == conversation)
    )
    return select(message_id, User.id, conversation).where(
        User.id.in_(direct.union(through_groups)),
        User.is_active.is_(True),
        User.id.is_distinct_from(bindparam("sender", type_=Integer)),
    )


ADD_RECEIPTS = insert(MessageReceipt).from_select(
    ["message_id", "user_id", "conversation_id"],
    recipients(bindparam("message", type_=BigInteger)),
)


# A patient's message opens a done conversation again: the team has something to answer.
REOPEN_DONE = (
    update(ConversationTask)
    .where(
        ConversationTask.conversation_id == bindparam("conversation", type_=Integer),
        ConversationTask.status == TaskStatus.COMPLETED,
        ConversationTask.done_at <= _sent(),
    )
    .values(
        status=TaskStatus.REQUESTED,
        done_at=None,
        done_by_id=None,
        done_note=None,
        updated_at=_sent(),
    )
)
