from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, status

from app.auth.dependencies import CurrentPrincipal
from app.conversations.models import ConversationStatus, InboxView, Priority
from app.dependencies import FhirDep, MediaWorkersDep, SessionDep
from app.idempotency import keys as idempotency
from app.idempotency.header import IdempotencyKey
from app.ids import PathId, PatientQueryId
from app.messaging import conversations, inbox_view, sending, thread_view, triage
from app.messaging.dependencies import SEND_REQUEST_BODY, MessageInput
from app.messaging.schemas import (
    AssigneeUpdate,
    ConversationCreate,
    ConversationDetail,
    ConversationSummary,
    DoneUpdate,
    InboxCounts,
    MessageCreate,
    MessageRead,
    ParticipantAdd,
    ReadMarker,
    ReadResult,
    StatusUpdate,
)
from app.pagination import CursorQuery, LimitQuery, Page

router = APIRouter(prefix="/api/v1/conversations", tags=["conversations"])


@router.post("", status_code=status.HTTP_201_CREATED)
async def start(
    body: ConversationCreate,
    request: Request,
    principal: CurrentPrincipal,
    session: SessionDep,
    fhir: FhirDep,
    idempotency_key: IdempotencyKey = None,
) -> ConversationDetail:
    """Start a conversation about a patient, with its first message."""
    keyed = idempotency.keyed(
        idempotency_key, user_id=principal.user.id, method="POST", path=request.url.path, body=body
    )
    return await conversations.start_conversation(session, fhir, principal.user, body, keyed)


@router.get("")
async def inbox(
    principal: CurrentPrincipal,
    session: SessionDep,
    status: ConversationStatus | None = None,
    patient_id: PatientQueryId = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
    view: InboxView = InboxView.MINE,
    priority: Priority | None = None,
    assigned: Annotated[
        Literal["me"] | None,
        Query(description="`me`: only conversations assigned to the caller in person."),
    ] = None,
) -> Page[ConversationSummary]:
    """The caller's conversations, newest activity first, with unread counts: for staff,
    `view` narrows them to their own (`mine`), their groups' (`teams`), those nobody has
    (`unassigned`) or those whose patient has waited longer than their organisation allows
    (`overdue`). Urgent ones come first, then newest activity; a patient's are newest first."""
    return await inbox_view.list_inbox(
        session,
        principal.user,
        status=status,
        patient_id=patient_id,
        cursor=cursor,
        limit=limit,
        view=view,
        priority=priority,
        assigned_to_me=assigned == "me",
    )


@router.get("/counts")
async def counts(principal: CurrentPrincipal, session: SessionDep) -> InboxCounts:
    """Open and unread conversations in each view: the numbers on the inbox's tabs."""
    return await inbox_view.count_views(session, principal.user)


@router.get("/{conversation_id}")
async def detail(
    conversation_id: PathId, principal: CurrentPrincipal, session: SessionDep
) -> ConversationDetail:
    """One conversation, with whether the caller takes part and may write."""
    return await conversations.get_detail(session, principal.user, conversation_id)


@router.patch("/{conversation_id}")
async def change_status(
    conversation_id: PathId,
    body: StatusUpdate,
    principal: CurrentPrincipal,
    session: SessionDep,
    fhir: FhirDep,
) -> ConversationDetail:
    """Close a conversation or reopen it, mark it urgent or routine (the care team)."""
    return await conversations.change_status(session, fhir, principal.user, conversation_id, body)


@router.put("/{conversation_id}/assignee")
async def assign(
    conversation_id: PathId,
    body: AssigneeUpdate,
    principal: CurrentPrincipal,
    session: SessionDep,
    fhir: FhirDep,
) -> ConversationDetail:
    """Give the conversation to one person or one team group of its organisations; its
    FHIR Task names them as `owner`."""
    return await triage.assign(session, fhir, principal.user, conversation_id, body)


@router.delete("/{conversation_id}/assignee")
async def unassign(
    conversation_id: PathId, principal: CurrentPrincipal, session: SessionDep, fhir: FhirDep
) -> ConversationDetail:
    return await triage.unassign(session, fhir, principal.user, conversation_id)


@router.post("/{conversation_id}/done")
async def done(
    conversation_id: PathId,
    principal: CurrentPrincipal,
    session: SessionDep,
    fhir: FhirDep,
    body: DoneUpdate | None = None,
) -> ConversationDetail:
    """The team's work on it is finished (its Task completed); not closed: a patient's
    next message opens it again."""
    data = body or DoneUpdate()
    return await triage.mark_done(session, fhir, principal.user, conversation_id, data, done=True)


@router.post("/{conversation_id}/undone")
async def undone(
    conversation_id: PathId, principal: CurrentPrincipal, session: SessionDep, fhir: FhirDep
) -> ConversationDetail:
    return await triage.mark_done(
        session, fhir, principal.user, conversation_id, DoneUpdate(), done=False
    )


@router.get("/{conversation_id}/messages")
async def messages(
    conversation_id: PathId,
    principal: CurrentPrincipal,
    session: SessionDep,
    before: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[MessageRead]:
    """A page of the thread, oldest first; pass `next_cursor` as `before` for older ones."""
    return await thread_view.list_messages(
        session, principal.user, conversation_id, before=before, limit=limit
    )


@router.post(
    "/{conversation_id}/messages",
    status_code=status.HTTP_201_CREATED,
    openapi_extra={"requestBody": SEND_REQUEST_BODY},
)
async def send(
    conversation_id: PathId,
    body: MessageInput,
    request: Request,
    principal: CurrentPrincipal,
    session: SessionDep,
    fhir: FhirDep,
    workers: MediaWorkersDep,
    idempotency_key: IdempotencyKey = None,
) -> MessageRead:
    """Send a message (JSON: text, or an amendment with `amends_id`), or an image or voice
    note (multipart: `file`, optional `text`)."""
    keyed = idempotency.keyed(
        idempotency_key,
        user_id=principal.user.id,
        method="POST",
        path=request.url.path,
        body=body if isinstance(body, MessageCreate) else body.fingerprint(),
    )
    if isinstance(body, MessageCreate):
        return await sending.send_message(
            session, fhir, principal.user, conversation_id, body, keyed
        )
    return await sending.send_attachment(
        session, fhir, principal.user, conversation_id, body, keyed, workers=workers
    )


@router.post("/{conversation_id}/participants")
async def add_participant(
    conversation_id: PathId,
    body: ParticipantAdd,
    principal: CurrentPrincipal,
    session: SessionDep,
    fhir: FhirDep,
) -> ConversationDetail:
    """Add someone who may see the patient; the organisations they share with them join."""
    return await conversations.add_participant(session, fhir, principal.user, conversation_id, body)


@router.post("/{conversation_id}/join")
async def join(
    conversation_id: PathId, principal: CurrentPrincipal, session: SessionDep, fhir: FhirDep
) -> ConversationDetail:
    """Take part in a conversation of one of one's organisations."""
    return await conversations.join(session, fhir, principal.user, conversation_id)


@router.post("/{conversation_id}/read")
async def mark_read(
    conversation_id: PathId, body: ReadMarker, principal: CurrentPrincipal, session: SessionDep
) -> ReadResult:
    """Mark messages read, up to one or to the newest; senders see the receipts."""
    return await thread_view.mark_read(session, principal.user, conversation_id, body)
