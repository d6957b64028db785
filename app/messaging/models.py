"""The SQL projection of messages and their receipts; FHIR holds the record. Also what the
rebuild keeps for itself: the resources it could not project."""

from datetime import datetime
from enum import StrEnum
from uuid import UUID, uuid4

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Uuid,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, BigIntId, UtcDateTime, utc_now
from app.types import string_enum


class MessageType(StrEnum):
    TEXT = "text"
    IMAGE = "image"
    VOICE = "voice"


class Message(Base):
    """One message; append-only. A correction is a new message naming the one it amends."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_thread_order", "conversation_id", "created_at", "id"),
        CheckConstraint("sender_id IS NOT NULL OR sender_display IS NOT NULL", name="sender_named"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    # The identifier of the message Communication (urn:parley:message), and its idempotency key.
    uuid: Mapped[UUID] = mapped_column(Uuid, unique=True, default=uuid4)
    fhir_id: Mapped[str] = mapped_column(String(64), unique=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    # None for a message another system wrote into the thread: `sender_display` names it.
    sender_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    sender_display: Mapped[str | None] = mapped_column(String(200))
    type: Mapped[MessageType] = mapped_column(
        string_enum(MessageType, "message_type"), default=MessageType.TEXT
    )
    body: Mapped[str | None] = mapped_column(Text)
    amends_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), index=True)
    # Placeholders for a future, audited redaction (e.g. a message sent about the
    # wrong patient): the only change a message row may ever receive.
    redacted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    redacted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    redaction_reason: Mapped[str | None] = mapped_column(String(500))
    # An image or voice note: its bytes are a FHIR Binary; these describe them.
    attachment_binary_id: Mapped[str | None] = mapped_column(String(64))
    attachment_content_type: Mapped[str | None] = mapped_column(String(100))
    attachment_size: Mapped[int | None] = mapped_column(Integer)
    attachment_sha1: Mapped[str | None] = mapped_column(String(40))
    attachment_title: Mapped[str | None] = mapped_column(String(200))
    attachment_duration_ms: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    # Sent as urgent (its Communication's priority urgent, asap or stat).
    urgent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class MessageReceipt(Base):
    """Delivery and read state of one message for one recipient."""

    __tablename__ = "message_receipts"
    __table_args__ = (
        # Unread counts per conversation read only the rows still unread.
        Index(
            "ix_message_receipts_unread",
            "user_id",
            "conversation_id",
            sqlite_where=text("read_at IS NULL"),
            postgresql_where=text("read_at IS NULL"),
        ),
    )

    message_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    # Copied from the message so unread counts need no join.
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ProjectionFailure(Base):
    """A FHIR resource that could not be projected: retried on every run until it is, and
    listed by `parley reproject --failed`. Holds the reason's kind, never the resource."""

    __tablename__ = "projection_failures"

    fhir_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    first_failed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    last_failed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
