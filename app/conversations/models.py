"""The conversation tables: the thread, its participants and its organisations."""

from datetime import datetime
from enum import StrEnum
from uuid import UUID, uuid4

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    Uuid,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, BigIntId, UtcDateTime, utc_now
from app.types import string_enum


class ConversationStatus(StrEnum):
    NEW = "new"  # no reply yet
    ACTIVE = "active"
    CLOSED = "closed"


class Priority(StrEnum):
    """FHIR's request priority, as far as a care team sorts by it."""

    ROUTINE = "routine"
    URGENT = "urgent"


class InboxView(StrEnum):
    """The slices of a staff member's conversations an inbox offers (see the repository's
    `_in_view`)."""

    MINE = "mine"
    TEAMS = "teams"
    ORGANISATION = "organisation"
    UNASSIGNED = "unassigned"
    OVERDUE = "overdue"


class TaskStatus(StrEnum):
    """The FHIR Task that carries a conversation's assignment and whether it is done."""

    REQUESTED = "requested"  # waiting for the assignee, or for anyone when unassigned
    COMPLETED = "completed"  # done: the team's work on it is finished


class ParticipantRole(StrEnum):
    INITIATOR = "initiator"
    MEMBER = "member"
    PATIENT = "patient"


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (
        Index("ix_conversations_recency", "last_message_at", "id"),
        Index("ix_conversations_patient_recency", "patient_id", "last_message_at"),
        # Staff inboxes read urgent conversations as a run of their own, before the rest.
        Index(
            "ix_conversations_urgent_recency", "last_message_at", "id",
            postgresql_where=text("priority = 'urgent'"),
            sqlite_where=text("priority = 'urgent'"),
        ),
        Index(
            "ix_conversations_waiting", "awaiting_reply_since",
            postgresql_where=text("awaiting_reply_since IS NOT NULL"),
            sqlite_where=text("awaiting_reply_since IS NOT NULL"),
        ),
        Index(
            "ix_conversations_overdue_recency", "last_message_at", "id",
            postgresql_where=text("overdue_since IS NOT NULL"),
            sqlite_where=text("overdue_since IS NOT NULL"),
        ),
    )  # fmt: skip

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The identifier of the thread-header Communication (urn:parley:conversation).
    uuid: Mapped[UUID] = mapped_column(Uuid, unique=True, default=uuid4)
    fhir_id: Mapped[str] = mapped_column(String(64), unique=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patient_metadata.patient_id"))
    subject: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[ConversationStatus] = mapped_column(
        string_enum(ConversationStatus, "conversation_status"), default=ConversationStatus.NEW
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
    priority: Mapped[Priority] = mapped_column(
        string_enum(Priority, "conversation_priority"),
        default=Priority.ROUTINE,
        server_default=Priority.ROUTINE.value,
    )
    # When the oldest patient message that no staff message has followed was sent: how
    # long the patient has waited. Kept by every send, in the send's own statement.
    awaiting_reply_since: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # When the escalation job found the patient had waited longer than an organisation
    # allows (app/messaging/escalation.py); a clinician's reply clears it with the wait.
    overdue_since: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ConversationTask(Base):
    """Who a conversation is assigned to and whether the team's work on it is done: the
    SQL side of a FHIR Task (`focus` the thread header, `for` the patient, `owner` the
    Practitioner or Group). One per conversation, made the first time either is set."""

    __tablename__ = "conversation_tasks"
    __table_args__ = (
        CheckConstraint(
            "assignee_user_id IS NULL OR assignee_group_id IS NULL", name="one_assignee"
        ),
    )

    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    fhir_id: Mapped[str] = mapped_column(String(64), unique=True)
    assignee_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    assignee_group_id: Mapped[int | None] = mapped_column(
        ForeignKey("groups.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[TaskStatus] = mapped_column(
        string_enum(TaskStatus, "task_status"), default=TaskStatus.REQUESTED
    )
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    done_note: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)


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
            "urgent",
            "last_message_at",
            "conversation_id",
        ),
        Index(
            "ix_conversation_participants_group_recency",
            "group_id",
            "urgent",
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
        string_enum(ParticipantRole, "participant_role"), default=ParticipantRole.MEMBER
    )
    joined_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    last_read_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The conversation's own, copied by triggers (migrations 0012, 0018): an inbox reads
    # its candidates urgent first, then newest first, from this row's index.
    last_message_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class ConversationOrganisation(Base):
    """An organisation whose staff may find and join the conversation."""

    __tablename__ = "conversation_organisations"
    __table_args__ = (
        Index(
            "ix_conversation_organisations_recency",
            "organisation_id",
            "urgent",
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
    urgent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
