"""A send's projection as one PostgreSQL statement.

The same rows that `projector.project_message` writes in six statements (the message,
the conversation's pointers, the sender's read marker, receipts, the live event, the
audit row) written by data-modifying CTEs in one round trip, with the NOTIFY: on
PostgreSQL each round trip costs the service more CPU than the database spends on it.
SQLite has no data-modifying CTEs (and no network in between) and takes the six.
"""

import functools
from typing import Any

from sqlalchemy import (
    Integer,
    Select,
    String,
    bindparam,
    exists,
    func,
    insert,
    literal,
    select,
    true,
)

from app.audit.models import AuditEvent
from app.conversations.models import Conversation
from app.db import UtcDateTime
from app.events.models import Event
from app.events.service import CHANNEL
from app.messaging import statements
from app.messaging.models import MessageReceipt


@functools.cache
def send_statement(*, audited: bool) -> Select[Any]:
    """Answers (message id, event id, NOTIFY); its values are the named parameters of
    `statements` and `audit_parameters`."""
    message = statements.INSERT_MESSAGE.cte("new_message")
    new_id = select(message.c.id).scalar_subquery()
    pointers = statements.move_pointers(new_id).returning(Conversation.id).cte("pointers")
    # The read marker waits for the pointers (it reads their output): every send then
    # locks the conversation's row before any participant row, as the trigger that copies
    # the recency onto participants does. In the other order two sends deadlock.
    marker = (
        statements.MARK_READ.where(exists(select(pointers.c.id)))
        .returning(literal(1))
        .cte("marker")
    )
    receipts = (
        insert(MessageReceipt)
        .from_select(["message_id", "user_id", "conversation_id"], statements.recipients(new_id))
        .returning(literal(1))
        .cte("receipts")
    )
    payload = func.json_build_object(
        "message_id", message.c.id, "sender_id", bindparam("sender", type_=Integer)
    )
    event_row = (
        insert(Event)
        .from_select(
            ["type", "conversation_id", "payload", "created_at"],
            select(
                literal("message.created", String),
                bindparam("conversation", type_=Integer),
                payload,
                bindparam("now", type_=UtcDateTime),
            ).select_from(message),
        )
        .returning(Event.id)
        .cte("event_row")
    )
    side_effects = [pointers, marker, receipts]
    if audited:
        details = func.json_build_object("message_id", message.c.id)
        audit_row = (
            insert(AuditEvent)
            .from_select(
                ["occurred_at", "action", "outcome", "actor_id", "patient_id",
                 "conversation_id", "client_address", "details"],
                select(
                    bindparam("now", type_=UtcDateTime),
                    bindparam("audit_action", type_=String),
                    bindparam("audit_outcome", type_=String),
                    bindparam("sender", type_=Integer),
                    bindparam("patient", type_=String),
                    bindparam("conversation", type_=Integer),
                    bindparam("client_address", type_=String),
                    details,
                ).select_from(message),
            )
            .returning(literal(1))
            .cte("audit_row")
        )  # fmt: skip
        side_effects.append(audit_row)
    return (
        select(message.c.id, event_row.c.id, func.pg_notify(CHANNEL, ""))
        .select_from(message.join(event_row, true()))
        .add_cte(*side_effects)
    )
