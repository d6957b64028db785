"""The SQL projection of conversations and messages; FHIR holds the record."""

from datetime import datetime
from enum import StrEnum
from uuid import UUID, uuid4

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, BigIntId, UtcDateTime, utc_now
from app.types import enum_values


class ConversationStatus(StrEnum):
    NEW = "new"  # no reply yet
    ACTIVE = "active"
    CLOSED = "closed"


class ParticipantRole(StrEnum):
    INITIATOR = "initiator"
    MEMBER = "member"
    PATIENT = "patient"


class MessageType(StrEnum):
    TEXT = "text"
    IMAGE = "image"
    VOICE = "voice"


def _string_enum(enum_class: type[StrEnum], name: str) -> Enum:
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        values_callable=enum_values,
        length=16,
    )


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (
        Index("ix_conversations_recency", "last_message_at", "id"),
        Index("ix_conversations_patient_recency", "patient_id", "last_message_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The identifier of the thread-header Communication (urn:parley:conversation).
    uuid: Mapped[UUID] = mapped_column(Uuid, unique=True, default=uuid4)
    fhir_id: Mapped[str] = mapped_column(String(64), unique=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patient_metadata.patient_id"))
    subject: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[ConversationStatus] = mapped_column(
        _string_enum(ConversationStatus, "conversation_status"), default=ConversationStatus.NEW
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    last_message_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    # The send time last handed out (epoch ms): each send takes a later one, so a
    # conversation's messages have one order, the same in SQL and in FHIR.
    last_sent_ms: Mapped[int | None] = mapped_column(BigInteger)
    # The newest message, kept beside last_message_at so the inbox needs no per-row lookup.
    last_message_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("messages.id", use_alter=True, name="fk_conversations_last_message_id")
    )


class ConversationParticipant(Base):
    """A user, or a whole team group, taking part in a conversation."""

    __tablename__ = "conversation_participants"
    __table_args__ = (
        CheckConstraint("(user_id IS NULL) <> (group_id IS NULL)", name="user_or_group"),
        UniqueConstraint("conversation_id", "user_id"),
        UniqueConstraint("conversation_id", "group_id"),
        Index(
            "ix_conversation_participants_user_recency",
            "user_id",
            "last_message_at",
            "conversation_id",
        ),
        Index(
            "ix_conversation_participants_group_recency",
            "group_id",
            "last_message_at",
            "conversation_id",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[ParticipantRole] = mapped_column(
        _string_enum(ParticipantRole, "participant_role"), default=ParticipantRole.MEMBER
    )
    joined_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    last_read_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The conversation's own, copied by triggers (migration 0012): an inbox reads its
    # candidates newest first from this row's index.
    last_message_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ConversationOrganisation(Base):
    """An organisation whose staff may find and join the conversation."""

    __tablename__ = "conversation_organisations"
    __table_args__ = (
        Index(
            "ix_conversation_organisations_recency",
            "organisation_id",
            "last_message_at",
            "conversation_id",
        ),
    )

    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    joined_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    # The conversation's own, copied by triggers, as on participants.
    last_message_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Message(Base):
    """One message; append-only. A correction is a new message naming the one it amends."""

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_thread_order", "conversation_id", "created_at", "id"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    # The identifier of the message Communication (urn:parley:message), and its idempotency key.
    uuid: Mapped[UUID] = mapped_column(Uuid, unique=True, default=uuid4)
    fhir_id: Mapped[str] = mapped_column(String(64), unique=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    sender_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    type: Mapped[MessageType] = mapped_column(
        _string_enum(MessageType, "message_type"), default=MessageType.TEXT
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


class Group(Base):
    """A team inbox within one organisation."""

    __tablename__ = "groups"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now, onupdate=utc_now)


class GroupMember(Base):
    __tablename__ = "group_members"

    group_id: Mapped[int] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    added_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)


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


class IdempotencyRecord(Base):
    """The answer given to a request made with an Idempotency-Key, to give it again."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    # What was asked: method and path, and a hash of the body.
    request: Mapped[str] = mapped_column(String(300))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
