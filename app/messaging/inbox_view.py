"""The inbox as a caller reads it: the conversations they may see, newest activity
first, each with its participants, unread count and newest message."""

from datetime import datetime
from typing import cast

from sqlalchemy.ext.asyncio import AsyncSession

from app.access import service as access
from app.access.relations import ListingShape
from app.accounts.models import SystemPermission, User
from app.audit import log as audit
from app.conversations.models import Conversation, ConversationStatus, InboxView, Priority
from app.errors import InvalidInputError
from app.messaging import projection, repository
from app.messaging.records import InboxRow, ParticipantRow
from app.messaging.schemas import (
    Assignee,
    ConversationSummary,
    InboxCounts,
    LastMessageRead,
    ParticipantRead,
    PatientBanner,
    PersonRead,
    ViewCount,
)
from app.pagination import Page, decode_cursor, encode_cursor
from app.patients.schemas import Sex


async def _listing(session: AsyncSession, user: User) -> tuple[ListingShape, dict[str, object]]:
    """Where the user's conversations are found (`access.conversation_listing`)."""
    organisation_ids, group_ids = await repository.memberships(session, user.id)
    return access.conversation_listing(
        access.actor_of(user), organisation_ids=organisation_ids, group_ids=group_ids
    )


async def list_inbox(
    session: AsyncSession,
    user: User,
    *,
    status: ConversationStatus | None,
    patient_id: str | None,
    cursor: str | None,
    limit: int,
    view: InboxView = InboxView.MINE,
    priority: Priority | None = None,
    assigned_to_me: bool = False,
) -> Page[ConversationSummary]:
    """Staff: urgent first, then newest activity; a patient: newest activity first, their
    conversations whatever the view or priority asked for (urgency is the care team's).
    A fixed number of queries, whatever the page or thread size."""
    staff = user.system_permissions is not SystemPermission.PATIENT
    shape, values = await _listing(session, user)
    rows = await repository.inbox_page(
        session,
        shape=shape,
        values=values,
        status=status,
        patient_id=patient_id,
        after=_after(cursor, ranked=staff) if cursor else None,
        limit=limit + 1,
        reader_id=user.id,
        view=view,
        priority=priority if staff else None,
        assigned_to_reader=assigned_to_me and staff,
    )
    page = rows[:limit]
    items = [summary_of(row, for_staff=staff) for row in page]
    shown: dict[str, list[int]] = {}
    for row in page:
        shown.setdefault(row.conversation.patient_id, []).append(row.conversation.id)
    await audit.record_seen(session, action="conversations.list", actor_id=user.id, seen=shown)
    last = page[-1].conversation if len(rows) > limit else None
    next_cursor = _cursor_after(last, ranked=staff) if last else None
    return Page(items=items, next_cursor=next_cursor)


_UNRANKED = "any"  # a patient's inbox is not ordered by priority


def _cursor_after(last: Conversation, *, ranked: bool) -> str:
    rank = last.priority.value if ranked else _UNRANKED
    return encode_cursor(rank, last.last_message_at.isoformat(), last.id)


def _after(cursor: str, *, ranked: bool) -> repository.InboxAfter:
    """Where the page before ended; a cursor of the other kind of inbox (ranked for staff,
    unranked for a patient) is not this one's and is refused."""
    rank, at, conversation_id = decode_cursor(cursor, str, datetime, int)
    valid = rank in set(Priority) if ranked else rank == _UNRANKED
    if not valid:
        raise InvalidInputError("The cursor is not valid.", field=("query", "cursor"))
    priority = None if rank == _UNRANKED else Priority(rank)
    return repository.InboxAfter(priority, at, conversation_id)


def summary_of(row: InboxRow, *, for_staff: bool) -> ConversationSummary:
    """The conversation as a list shows it; its triage (urgency, assignee, done, waiting)
    is the care team's working state, not shown to patients."""
    summary = ConversationSummary(
        id=row.conversation.id,
        patient_id=row.conversation.patient_id,
        patient=PatientBanner(
            id=row.patient.id,
            name=f"{row.patient.given_name} {row.patient.family_name}",
            birth_date=row.patient.birth_date,
            nhs_number=row.patient.nhs_number,
            sex=cast(Sex | None, row.patient.sex),
        ),
        subject=row.conversation.subject,
        status=row.conversation.status,
        priority=row.conversation.priority,
        assignee=_assignee(row),
        done_at=row.work.task.done_at if row.work else None,
        awaiting_reply_since=row.conversation.awaiting_reply_since,
        participants=[_participant_read(item) for item in row.participants],
        last_message=_last_message(row),
        unread_count=row.unread_count,
        updated_at=row.conversation.updated_at,
    )
    if for_staff:
        return summary
    return summary.model_copy(
        update={"priority": None, "assignee": None, "done_at": None, "awaiting_reply_since": None}
    )


def _assignee(row: InboxRow) -> Assignee | None:
    if row.work is None or row.work.assignee_name is None:
        return None
    task = row.work.task
    if task.assignee_user_id is not None:
        return Assignee(type="user", id=task.assignee_user_id, name=row.work.assignee_name)
    assert task.assignee_group_id is not None, "a named assignee is a user or a group"
    return Assignee(type="group", id=task.assignee_group_id, name=row.work.assignee_name)


def _participant_read(row: ParticipantRow) -> ParticipantRead:
    return ParticipantRead(
        kind="user" if row.kind == "user" else "group", id=row.id, name=row.name, role=row.role
    )


def _last_message(row: InboxRow) -> LastMessageRead | None:
    message = row.last_message
    if message is None:
        return None
    return LastMessageRead(
        id=message.id,
        sender=PersonRead(id=message.sender_id, name=row.last_sender_name or ""),
        preview=projection.preview(message.body),
        sent_at=message.created_at,
    )


async def count_views(session: AsyncSession, user: User) -> InboxCounts:
    """Open and unread conversations in each view, in one statement, each counted up to
    COUNT_LIMIT. A patient's views are all their own conversations."""
    shape, values = await _listing(session, user)
    counts = await repository.view_counts(
        session,
        shape=shape,
        values=values,
        reader_id=user.id,
    )
    return InboxCounts(
        **{
            view.value: ViewCount(open=open_count, unread=unread)
            for view, (open_count, unread) in counts.items()
        }
    )
