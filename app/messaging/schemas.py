from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from app.conversations.models import ConversationStatus, ParticipantRole, Priority
from app.ids import BigRowId, RowId
from app.messaging.models import MessageType
from app.patients.schemas import Sex
from app.text import CleanLine, CleanText

MAX_TEXT = 10_000


def _not_blank(text: str) -> str:
    if not text.strip():
        raise ValueError("a message needs some text")
    return text


MessageText = Annotated[
    str, CleanText, StringConstraints(max_length=MAX_TEXT), AfterValidator(_not_blank)
]
Subject = Annotated[str, CleanLine, StringConstraints(strip_whitespace=True, max_length=200)]
PatientId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9\-.]{1,64}$")]


class FirstMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: MessageText


class ConversationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    patient_id: PatientId
    subject: Subject | None = None
    participant_ids: list[RowId] = Field(default_factory=list, max_length=50)
    group_ids: list[RowId] = Field(
        default_factory=list,
        max_length=20,
        description="Team groups of the patient's organisations that take part from the start.",
    )
    include_patient: bool = False
    priority: Priority = Priority.ROUTINE
    message: FirstMessage


class MessageCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: MessageText
    amends_id: BigRowId | None = Field(default=None, description="The message this one corrects.")
    priority: Priority | None = Field(
        default=None,
        description="urgent: the message's FHIR priority, and the conversation is marked "
        "urgent too (the care team only).",
    )


class StatusUpdate(BaseModel):
    """Close or reopen (`status`), and mark urgent or routine (`priority`): either or both."""

    model_config = ConfigDict(extra="forbid")

    status: Literal[ConversationStatus.ACTIVE, ConversationStatus.CLOSED] | None = None
    priority: Priority | None = None


class AssigneeUpdate(BaseModel):
    """One person or one team group of the conversation's organisations."""

    model_config = ConfigDict(extra="forbid")

    user_id: RowId | None = None
    group_id: RowId | None = None

    @model_validator(mode="after")
    def one_of_them(self) -> "AssigneeUpdate":
        if (self.user_id is None) == (self.group_id is None):
            raise ValueError("give user_id or group_id, not both")
        return self


class DoneUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: Annotated[str, CleanText, StringConstraints(strip_whitespace=True, max_length=1000)] | (
        None
    ) = None


class ParticipantAdd(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: RowId | None = None
    group_id: RowId | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> "ParticipantAdd":
        if (self.user_id is None) == (self.group_id is None):
            raise ValueError("give either user_id or group_id")
        return self


class ReadMarker(BaseModel):
    model_config = ConfigDict(extra="forbid")

    up_to_message_id: BigRowId | None = Field(
        default=None, description="Mark read up to this message; the newest when left out."
    )


class PersonRead(BaseModel):
    # None for someone of another system (a message it wrote into the thread), named
    # from its FHIR resource.
    id: int | None
    name: str


class ParticipantRead(BaseModel):
    kind: Literal["user", "group"]
    id: int
    name: str
    role: ParticipantRole


class LastMessageRead(BaseModel):
    id: int
    sender: PersonRead
    preview: str
    sent_at: datetime


class PatientBanner(BaseModel):
    """Enough to tell one patient from another: never just a name."""

    id: str
    name: str
    birth_date: date | None
    nhs_number: str | None = Field(description="10 digits, no spaces.")
    sex: Sex | None = None


class Assignee(BaseModel):
    type: Literal["user", "group"]
    id: int
    name: str


class ConversationSummary(BaseModel):
    id: int
    patient_id: str
    patient: PatientBanner
    subject: str | None
    status: ConversationStatus
    priority: Priority | None = Field(
        default=Priority.ROUTINE, description="null for a patient: triage is the care team's."
    )
    assignee: Assignee | None = None
    done_at: datetime | None = Field(
        default=None, description="When the team's work on it was marked done; null if open."
    )
    awaiting_reply_since: datetime | None = Field(
        default=None,
        description="The oldest patient message no staff message has followed yet.",
    )
    participants: list[ParticipantRead]
    last_message: LastMessageRead | None
    unread_count: int
    updated_at: datetime


class ConversationDetail(ConversationSummary):
    fhir_id: str
    organisation_ids: list[int]
    is_participant: bool
    can_write: bool
    cannot_write_because: str | None = Field(
        default=None, description="Why the caller may not write, when they may not."
    )
    can_join: bool = Field(default=False, description="The caller may join it now.")
    can_change_status: bool = Field(
        default=False, description="The caller may close or reopen it now."
    )


class AttachmentRead(BaseModel):
    id: int
    content_type: str
    size: int
    title: str | None
    duration_ms: int | None = None


class MessageRead(BaseModel):
    id: int
    fhir_id: str
    conversation_id: int
    sender: PersonRead
    type: MessageType
    text: str | None
    attachment: AttachmentRead | None = None
    amends_id: int | None
    amended_by_id: int | None
    sent_at: datetime
    delivered_to: list[int]
    read_by: list[int]
    urgent: bool = Field(default=False, description="Sent as urgent.")


class ReadResult(BaseModel):
    conversation_id: int
    unread_count: int


# Counts are exact below this and this number means "this many or more" (a tab shows
# "99+"): counting further would read every conversation of a large practice per poll.
COUNT_LIMIT = 100


class ViewCount(BaseModel):
    open: int = Field(
        description=f"Conversations in the view that are not closed; {COUNT_LIMIT} means "
        f"{COUNT_LIMIT} or more."
    )
    unread: int = Field(
        description=f"Of those, the ones with messages the caller has not read; {COUNT_LIMIT} "
        f"means {COUNT_LIMIT} or more."
    )


class InboxCounts(BaseModel):
    """The numbers on the inbox's tabs."""

    mine: ViewCount
    teams: ViewCount
    organisation: ViewCount
    unassigned: ViewCount
    overdue: ViewCount
