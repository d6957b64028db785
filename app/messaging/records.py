"""Plain rows the repository answers with: what a query found, before it becomes a schema."""

from dataclasses import dataclass
from datetime import date

from app.conversations.models import Conversation, ConversationTask, ParticipantRole
from app.messaging.models import Message


@dataclass(frozen=True)
class PatientRow:
    """What tells one patient from another wherever a conversation is listed."""

    id: str
    given_name: str
    family_name: str
    birth_date: date | None
    nhs_number: str | None
    sex: str | None


@dataclass(frozen=True)
class ParticipantRow:
    kind: str  # "user" or "group"
    id: int
    name: str
    role: ParticipantRole


@dataclass(frozen=True)
class WorkRow:
    """The conversation's task, with its assignee's name (a user's or a group's)."""

    task: ConversationTask
    assignee_name: str | None


@dataclass(frozen=True)
class InboxRow:
    conversation: Conversation
    last_message: Message | None
    last_sender_name: str | None
    participants: list[ParticipantRow]
    unread_count: int  # the reader's
    patient: PatientRow
    work: WorkRow | None = None


@dataclass(frozen=True)
class ThreadRow:
    message: Message
    sender_name: str
    amended_by: int | None  # the newest message that corrects it
    delivered_to: list[int]
    read_by: list[int]
