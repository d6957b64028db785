"""Every SQL query of messaging. Reads take a visibility condition from app.access."""

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Integer,
    Row,
    ScalarSelect,
    Select,
    and_,
    bindparam,
    case,
    delete,
    exists,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    true,
    tuple_,
    union,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.access import service as access
from app.access.relations import Found, Listing, ListingShape, Source, conversation_listing
from app.accounts.models import User
from app.conversations.models import (
    Conversation,
    ConversationOrganisation,
    ConversationParticipant,
    ConversationStatus,
    ConversationTask,
    InboxView,
    ParticipantRole,
    Priority,
    TaskStatus,
)
from app.db import BigIntId, UtcDateTime, utc_now
from app.directory.groups import Group, GroupMember
from app.directory.organisations import StaffMembership
from app.directory.patients import PatientMetadata
from app.fhir.resources import Party
from app.messaging.models import Message, MessageReceipt, ProjectionFailure
from app.messaging.records import InboxRow, ParticipantRow, PatientRow, ThreadRow, WorkRow
from app.messaging.schemas import COUNT_LIMIT
from app.sql_functions import json_rows, rows_of


async def lock_conversation(session: AsyncSession, conversation_id: int) -> None:
    """Hold the conversation's row until the transaction ends (PostgreSQL; SQLite writes
    one at a time anyway): for checks that must not race another send."""
    await session.execute(
        select(Conversation.id).where(Conversation.id == conversation_id).with_for_update()
    )


# Page sizes are written into the SQL rather than bound: PostgreSQL then plans a page query
# once and keeps the plan (prepared statements), and the plan walks an index until the
# page is full. Bound, the size is unknown to that plan, which assumes a tenth of the table
# is wanted and scans it all (30 times slower); the statements' SQL differs only by size.
_INBOX_LIMIT = bindparam("inbox_limit", type_=Integer, literal_execute=True)
_PAGE_LIMIT = bindparam("page_limit", type_=Integer, literal_execute=True)


def _participants_json() -> ScalarSelect[Any]:
    """Each conversation's participants as JSON rows, for the row's own statement."""
    participant = aliased(ConversationParticipant)
    person = aliased(User)
    group = aliased(Group)
    return (
        select(
            json_rows(
                participant.id,
                participant.user_id,
                participant.group_id,
                participant.role,
                person.full_name,
                group.name,
            )
        )
        .select_from(participant)
        .outerjoin(person, person.id == participant.user_id)
        .outerjoin(group, group.id == participant.group_id)
        .where(participant.conversation_id == Conversation.id)
        .scalar_subquery()
    )


def _unread_count() -> ScalarSelect[int]:
    receipt = aliased(MessageReceipt)
    return (
        select(func.count())
        .select_from(receipt)
        .where(
            receipt.user_id == bindparam("reader", type_=Integer),
            receipt.read_at.is_(None),
            receipt.conversation_id == Conversation.id,
        )
        .scalar_subquery()
    )


def _sender_name() -> ColumnElement[str | None]:
    """The Parley user's name, or for another system's message the name it came with."""
    return func.coalesce(User.full_name, Message.sender_display)


def _summary_row() -> Select[Any]:
    """A conversation with what a summary shows of it: the last message and its sender, the
    participants, and the reader's unread count; one statement for any number of rows."""
    return (
        select(
            Conversation,
            Message,
            _sender_name(),
            _participants_json(),
            _unread_count(),
            PatientMetadata.given_name,
            PatientMetadata.family_name,
            PatientMetadata.birth_date,
            PatientMetadata.nhs_number,
            PatientMetadata.sex,
            ConversationTask,
            _ASSIGNED_USER.full_name,
            _ASSIGNED_GROUP.name,
        )
        .outerjoin(Message, Message.id == Conversation.last_message_id)
        .outerjoin(User, User.id == Message.sender_id)
        .join(PatientMetadata, PatientMetadata.patient_id == Conversation.patient_id)
        .outerjoin(ConversationTask, ConversationTask.conversation_id == Conversation.id)
        .outerjoin(_ASSIGNED_USER, _ASSIGNED_USER.id == ConversationTask.assignee_user_id)
        .outerjoin(_ASSIGNED_GROUP, _ASSIGNED_GROUP.id == ConversationTask.assignee_group_id)
    )


_ASSIGNED_USER = aliased(User, name="assigned_user")
_ASSIGNED_GROUP = aliased(Group, name="assigned_group")


def _inbox_row(row: Sequence[Any]) -> InboxRow:
    conversation, message, sender_name, participants, unread, given, family, born, nhs, sex = row[
        :10
    ]
    task, assigned_user_name, assigned_group_name = row[10:]
    found = []
    for _, user_id, group_id, role, user_name, group_name in sorted(rows_of(participants)):
        if user_id is not None:
            found.append(ParticipantRow("user", user_id, user_name or "", ParticipantRole(role)))
        else:
            assert group_id is not None, "a participant is a user or a group"
            found.append(ParticipantRow("group", group_id, group_name or "", ParticipantRole(role)))
    patient = PatientRow(conversation.patient_id, given, family, born, nhs, sex)
    work = None
    if task is not None:
        work = WorkRow(task, assigned_user_name or assigned_group_name)
    return InboxRow(conversation, message, sender_name, found, unread, patient, work)


_CONVERSATION_ROW = _summary_row().where(Conversation.id == bindparam("conversation_id"))


async def conversation_row(session: AsyncSession, conversation_id: int, reader_id: int) -> InboxRow:
    """One conversation as a summary shows it, read afresh (it may have changed in this
    transaction)."""
    result = await session.execute(
        _CONVERSATION_ROW.execution_options(populate_existing=True),
        {"conversation_id": conversation_id, "reader": reader_id},
    )
    return _inbox_row(result.one())


async def organisation_ids(session: AsyncSession, conversation_id: int) -> list[int]:
    statement = (
        select(ConversationOrganisation.organisation_id)
        .where(ConversationOrganisation.conversation_id == conversation_id)
        .order_by(ConversationOrganisation.organisation_id)
    )
    return list(await session.scalars(statement))


_MEMBERSHIPS = union_all(
    select(literal("organisation"), StaffMembership.organisation_id).where(
        StaffMembership.user_id == bindparam("member")
    ),
    select(literal("group"), GroupMember.group_id).where(
        GroupMember.user_id == bindparam("member")
    ),
)


async def memberships(session: AsyncSession, user_id: int) -> tuple[list[int], list[int]]:
    """The organisations a user staffs and the groups they belong to, in one query."""
    organisations: list[int] = []
    groups: list[int] = []
    for kind, row_id in await session.execute(_MEMBERSHIPS, {"member": user_id}):
        (organisations if kind == "organisation" else groups).append(row_id)
    return sorted(organisations), sorted(groups)


# The order staff read their inbox in: urgent first, then routine (a patient's inbox is
# newest first only: urgency is the care team's, not shown to patients).
PRIORITY_ORDER = (Priority.URGENT, Priority.ROUTINE)


@dataclass(frozen=True)
class InboxAfter:
    """Where the previous page ended: its last conversation's priority (None in a
    patient's inbox, which is not ranked), newest activity and id."""

    priority: Priority | None
    at: datetime
    conversation_id: int


async def inbox_page(
    session: AsyncSession,
    *,
    shape: ListingShape,
    values: dict[str, object],
    status: ConversationStatus | None,
    patient_id: str | None,
    after: InboxAfter | None,
    limit: int,
    reader_id: int,
    view: InboxView = InboxView.ORGANISATION,
    priority: Priority | None = None,
    assigned_to_reader: bool = False,
) -> list[InboxRow]:
    """Staff: urgent first, then newest activity; a patient: newest activity first. Each
    conversation as a summary shows it (`_summary_row`)."""
    slices = _slices(shape.is_staff, priority, after)
    if not slices:
        return []  # the page before held the last of what was asked for
    statement = _inbox_statement(
        shape, status is not None, patient_id is not None, view, slices, assigned_to_reader
    )
    parameters = values | {
        "reader": reader_id,
        "inbox_limit": limit,
        "inbox_status": status,
        "inbox_patient": patient_id,
    }
    if after is not None:
        parameters |= {"inbox_after_at": after.at, "inbox_after_id": after.conversation_id}
    return [_inbox_row(row) for row in await session.execute(statement, parameters)]


# One run of candidates: the conversations of one priority (None: any), newest first,
# after the cursor's place or from the top.
_Slice = tuple[Priority | None, bool]


def _slices(ranked: bool, wanted: Priority | None, after: InboxAfter | None) -> tuple[_Slice, ...]:
    """Which runs a page reads: unranked (a patient's inbox), one run of everything; ranked,
    one run per priority, from the cursor's priority on (the runs before it are spent)."""
    paged = after is not None
    if not ranked:
        return ((None, paged),)
    runs: list[_Slice] = []
    for place, each in enumerate(PRIORITY_ORDER):
        if wanted is not None and each is not wanted:
            continue
        if after is None or after.priority is None:
            runs.append((each, paged))
        elif each is after.priority:
            runs.append((each, True))
        elif place > PRIORITY_ORDER.index(after.priority):
            runs.append((each, False))
    return tuple(runs)


def priority_rank() -> ColumnElement[int]:
    """0 for urgent, 1 for routine: what staff inboxes sort by first."""
    return case({each.value: place for place, each in enumerate(PRIORITY_ORDER)},
                value=Conversation.priority, else_=len(PRIORITY_ORDER))  # fmt: skip


@functools.cache
def _inbox_statement(
    shape: ListingShape,
    by_status: bool,
    by_patient: bool,
    view: InboxView,
    slices: tuple[_Slice, ...],
    assigned_to_reader: bool = False,
) -> Select[Any]:
    """Each source gives, for each run, its newest `limit` readable conversations from an
    index of its own, so a page costs about `limit` rows a source and run, however many
    conversations there are; every conversation the caller may read is in one source and
    one run, so the first `limit` of their union in the page's order are the page. Built
    once per shape of caller and of request."""
    by_conversation = shape.is_staff and view is InboxView.OVERDUE
    found_in = _view(conversation_listing(shape), view, shape.is_staff, assigned_to_reader)
    branches = [
        _candidates(
            source, by_status, by_patient, paged,
            [*narrower, *_of_priority(priority, source, by_conversation)],
            by_conversation=by_conversation,
        )
        for priority, paged in slices
        for source, narrower in found_in
    ]  # fmt: skip
    candidates = _union_of(branches).subquery()
    order: list[ColumnElement[Any]] = [priority_rank()] if shape.is_staff else []
    order += [Conversation.last_message_at.desc(), Conversation.id.desc()]
    return (
        _summary_row()
        .join(candidates, candidates.c.id == Conversation.id)
        .order_by(*order)
        .limit(_INBOX_LIMIT)
    )


def _of_priority(
    priority: Priority | None, source: Source, by_conversation: bool
) -> list[ColumnElement[bool]]:
    """A run's priority: from the source row's copy (its index reads urgent ones first), or,
    for a run read from the conversations' own partial index (overdue), theirs, as a
    literal: PostgreSQL uses a partial index only where the query implies its condition."""
    if priority is None:
        return []
    if by_conversation:
        return [Conversation.priority == literal_column(f"'{priority.value}'")]
    return [source.urgent == (true() if priority is Priority.URGENT else false())]


async def view_counts(
    session: AsyncSession,
    *,
    shape: ListingShape,
    values: dict[str, object],
    reader_id: int,
) -> dict[InboxView, tuple[int, int]]:
    """For each view, how many of its conversations are open and how many of those hold
    messages the reader has not read: one statement, whatever the number of views."""
    statement = _counts_statement(shape)
    parameters = values | {"reader": reader_id}
    row = (await session.execute(statement, parameters)).one()
    # Several sources may each give COUNT_LIMIT different ones: the sum is capped here.
    return {
        view: (min(row[2 * n], COUNT_LIMIT), min(row[2 * n + 1], COUNT_LIMIT))
        for n, view in enumerate(InboxView)
    }


@functools.cache
def _counts_statement(shape: ListingShape) -> Select[Any]:
    """Each view's open and unread conversations, each counted only up to COUNT_LIMIT: every
    source gives at most that many, so a poll reads a few hundred index entries however
    large the practice. Unread ones are found from the reader's unread receipts."""
    listing = conversation_listing(shape)
    unread = (
        select(MessageReceipt.conversation_id)
        .where(
            MessageReceipt.user_id == bindparam("reader", type_=Integer),
            MessageReceipt.read_at.is_(None),
        )
        .scalar_subquery()
    )
    columns = []
    for view in InboxView:
        found_in = _view(listing, view, shape.is_staff)
        for only_unread in (False, True):
            found = _union_of(
                [
                    _first_few(
                        select(source.conversation_id.label("id"))
                        .join(Conversation, Conversation.id == source.conversation_id)
                        .where(
                            source.condition,
                            source.rest,
                            *narrower,
                            Conversation.status != ConversationStatus.CLOSED,
                            *([source.conversation_id.in_(unread)] if only_unread else []),
                        )
                    )
                    for source, narrower in found_in
                ]
            ).subquery()
            columns.append(select(func.count()).select_from(found).scalar_subquery())
    return select(*columns)


def _union_of(branches: Sequence[Select[Any]]) -> Select[Any] | CompoundSelect[Any]:
    """The branches' ids together; none at all when there are no branches (the `teams`
    view of someone in no group)."""
    if not branches:
        return select(Conversation.id).where(false())
    return union(*branches)


def _first_few(branch: Select[Any]) -> Select[Any]:
    """At most COUNT_LIMIT of a source's rows (SQLite takes LIMIT inside a UNION only from
    a subquery)."""
    inner = branch.limit(COUNT_LIMIT).subquery()
    return select(inner.c.id)


# Where a view's conversations are found: each source, with what else they must be.
_FoundIn = list[tuple[Source, list[ColumnElement[bool]]]]


def _view(
    listing: Listing, view: InboxView, is_staff: bool, assigned_to_reader: bool = False
) -> _FoundIn:
    """Where a view's conversations are found, each source with what else they must be:
    `mine`, those taking part in person or through a group or opened by the caller's
    external grant, and from the organisations' sources those assigned to the caller or
    one of their groups; `teams`, those taking part
    through a group and those assigned to one; `unassigned` and `overdue` (open, not done)
    and `organisation` from every source. A patient's inbox is every source. Staff may
    narrow any view to what is assigned to them in person (`assigned_to_reader`)."""
    if not is_staff:
        return [(source, []) for source in listing.sources]
    found_in = _staff_view(listing, view)
    if not assigned_to_reader:
        return found_in
    task = aliased(ConversationTask)
    mine = exists().where(
        task.conversation_id == Conversation.id,
        task.assignee_user_id == bindparam("reader", type_=Integer),
    )
    return [(source, [*narrower, mine]) for source, narrower in found_in]


def _staff_view(listing: Listing, view: InboxView) -> _FoundIn:
    reader = bindparam("reader", type_=Integer)
    groups = len(listing.found(Found.THROUGH_GROUP))
    my_groups = [bindparam(f"listing_group_{n}", type_=Integer) for n in range(groups)]
    task = aliased(ConversationTask)

    def has_task(*conditions: ColumnElement[bool]) -> ColumnElement[bool]:
        return exists(select(1).where(task.conversation_id == Conversation.id, *conditions))

    organisations = listing.found(Found.ORGANISATION)
    to_groups = [task.assignee_group_id.in_(my_groups)] if my_groups else []
    if view is InboxView.MINE:
        assigned = has_task(or_(task.assignee_user_id == reader, *to_groups))
        # A grant is the caller's own: what it opens to them is theirs to answer.
        taking_part = listing.found(Found.IN_PERSON, Found.THROUGH_GROUP, Found.GRANT)
        return [(each, []) for each in taking_part] + [(each, [assigned]) for each in organisations]
    if view is InboxView.TEAMS:
        through: _FoundIn = [(each, []) for each in listing.found(Found.THROUGH_GROUP)]
        if not my_groups:
            return through
        return through + [(each, [has_task(*to_groups)]) for each in organisations]
    narrower: list[ColumnElement[bool]] = []
    if view is InboxView.UNASSIGNED:
        assigned = or_(task.assignee_user_id.is_not(None), task.assignee_group_id.is_not(None))
        narrower = [still_to_do(), ~has_task(assigned)]
    elif view is InboxView.OVERDUE:
        narrower = [still_to_do(), Conversation.overdue_since.is_not(None)]
    return [(source, narrower) for source in listing.sources]


def still_to_do() -> ColumnElement[bool]:
    """Open and not done: the team still has something to do on the conversation."""
    done = aliased(ConversationTask)
    return and_(
        Conversation.status != ConversationStatus.CLOSED,
        ~exists().where(
            done.conversation_id == Conversation.id, done.status == TaskStatus.COMPLETED
        ),
    )


def _candidates(
    source: Source,
    by_status: bool,
    by_patient: bool,
    paged: bool,
    narrower: Sequence[ColumnElement[bool]] = (),
    *,
    by_conversation: bool = False,
) -> Select[int]:
    recency, conversation_id = (
        (Conversation.last_message_at, Conversation.id)
        if by_conversation
        else (source.recency, source.conversation_id)
    )
    branch = (
        select(source.conversation_id.label("id"))
        .join(Conversation, Conversation.id == source.conversation_id)
        .where(source.condition, source.rest, *narrower)
        .order_by(recency.desc(), conversation_id.desc())
        .limit(_INBOX_LIMIT)
    )
    if by_status:
        branch = branch.where(Conversation.status == bindparam("inbox_status"))
    if by_patient:
        branch = branch.where(Conversation.patient_id == bindparam("inbox_patient"))
    if paged:
        after = tuple_(bindparam("inbox_after_at", type_=UtcDateTime), bindparam("inbox_after_id"))
        branch = branch.where(tuple_(recency, conversation_id) < after)
    # SQLite takes ORDER BY and LIMIT inside a UNION only from a subquery.
    inner = branch.subquery()
    return select(inner.c.id)


async def unread_counts(
    session: AsyncSession, user_id: int, conversation_ids: list[int]
) -> dict[int, int]:
    statement = (
        select(MessageReceipt.conversation_id, func.count())
        .where(
            MessageReceipt.user_id == user_id,
            MessageReceipt.read_at.is_(None),
            MessageReceipt.conversation_id.in_(conversation_ids),
        )
        .group_by(MessageReceipt.conversation_id)
    )
    return {
        int(conversation_id): int(count)
        for conversation_id, count in await session.execute(statement)
    }


def _message_rows() -> Select[Message, str, int | None, Any]:
    """Messages as a thread shows them: each with its sender's name, its newest
    correction and its receipts, in one statement."""
    correction = aliased(Message)
    newest_correction = (
        select(func.max(correction.id)).where(correction.amends_id == Message.id).scalar_subquery()
    )
    receipt = aliased(MessageReceipt)
    receipts = (
        select(
            json_rows(
                receipt.user_id,
                receipt.delivered_at.is_not(None) | receipt.read_at.is_not(None),
                receipt.read_at.is_not(None),
            )
        )
        .where(receipt.message_id == Message.id)
        .scalar_subquery()
    )
    return select(Message, _sender_name(), newest_correction, receipts).outerjoin(
        User, User.id == Message.sender_id
    )


def _thread_statement(*, paged: bool) -> Select[Message, str, int | None, Any]:
    """The newest messages older than the cursor, newest first."""
    statement = (
        _message_rows()
        .where(Message.conversation_id == bindparam("page_conversation", type_=Integer))
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(_PAGE_LIMIT)
    )
    if paged:  # a row comparison: the thread's index can seek to it
        before = tuple_(
            bindparam("page_before_at", type_=UtcDateTime),
            bindparam("page_before_id", type_=BigIntId),
        )
        statement = statement.where(tuple_(Message.created_at, Message.id) < before)
    return statement


_THREAD_PAGE = {paged: _thread_statement(paged=paged) for paged in (False, True)}


def _page_parameters(
    conversation_id: int, before: tuple[datetime, int] | None, limit: int
) -> dict[str, object]:
    parameters: dict[str, object] = {"page_conversation": conversation_id, "page_limit": limit}
    if before is not None:
        parameters |= {"page_before_at": before[0], "page_before_id": before[1]}
    return parameters


async def thread_page(
    session: AsyncSession,
    conversation_id: int,
    *,
    before: tuple[datetime, int] | None,
    limit: int,
    reader_id: int,
) -> list[ThreadRow]:
    """The newest `limit` messages older than the cursor, newest first, as the reader sees
    them once the page is delivered to them (`MARK_DELIVERED`)."""
    result = await session.execute(
        _THREAD_PAGE[before is not None], _page_parameters(conversation_id, before, limit)
    )
    return [_thread_row(row, delivering_to=reader_id) for row in result]


_MESSAGE_BY_UUID = _message_rows().where(Message.uuid == bindparam("message_uuid"))


async def thread_row_by_uuid(session: AsyncSession, uuid: UUID) -> ThreadRow | None:
    row = (await session.execute(_MESSAGE_BY_UUID, {"message_uuid": uuid})).one_or_none()
    return None if row is None else _thread_row(row)


def _thread_row(
    row: Row[Message, str, int | None, Any], *, delivering_to: int | None = None
) -> ThreadRow:
    message, sender_name, amended_by, receipts = row
    found = sorted(rows_of(receipts))
    return ThreadRow(
        message,
        sender_name,
        amended_by,
        delivered_to=[
            user_id
            for user_id, delivered, _ in found
            if delivered or user_id == delivering_to  # a recipient reading it now
        ],
        read_by=[user_id for user_id, _, read in found if read],
    )


MARK_DELIVERED = (
    update(MessageReceipt)
    .where(
        MessageReceipt.user_id == bindparam("delivered_to", type_=Integer),
        MessageReceipt.message_id.in_(bindparam("delivered_ids", expanding=True)),
        MessageReceipt.delivered_at.is_(None),
    )
    .values(delivered_at=bindparam("delivered_at_time", type_=UtcDateTime))
)
"""Delivers messages (`delivered_ids`) to a reader (`delivered_to`) at `delivered_at_time`:
a write to send with the audit row of the reading."""


async def latest_version(session: AsyncSession, message_id: int) -> int:
    """The end of the message's chain of corrections (the message itself if uncorrected)."""
    current = message_id
    while (
        correction := await session.scalar(
            select(Message.id)
            .where(Message.amends_id == current)
            .order_by(Message.id.desc())
            .limit(1)
        )
    ) is not None:
        current = correction
    return current


async def mark_read(
    session: AsyncSession, *, user_id: int, conversation_id: int, up_to: Message, now: datetime
) -> bool:
    """Read (and so delivered) every message of the conversation up to `up_to`; answers
    whether any was unread until now."""
    up_to_here = select(Message.id).where(
        Message.conversation_id == conversation_id,
        or_(
            Message.created_at < up_to.created_at,
            and_(Message.created_at == up_to.created_at, Message.id <= up_to.id),
        ),
    )
    result = await session.execute(
        update(MessageReceipt)
        .where(
            MessageReceipt.user_id == user_id,
            MessageReceipt.conversation_id == conversation_id,
            MessageReceipt.read_at.is_(None),
            MessageReceipt.message_id.in_(up_to_here),
        )
        .values(read_at=now, delivered_at=func.coalesce(MessageReceipt.delivered_at, now))
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def get_message(
    session: AsyncSession, conversation_id: int, message_id: int
) -> Message | None:
    statement = select(Message).where(
        Message.id == message_id, Message.conversation_id == conversation_id
    )
    return await session.scalar(statement)


async def find_message(session: AsyncSession, message_id: int) -> Message | None:
    return await session.get(Message, message_id)


async def latest_message(session: AsyncSession, conversation_id: int) -> Message | None:
    statement = (
        select(Message)
        .where(Message.conversation_id == conversation_id)
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(1)
    )
    return await session.scalar(statement)


async def conversation_by_uuid(session: AsyncSession, uuid: UUID) -> Conversation | None:
    return await session.scalar(select(Conversation).where(Conversation.uuid == uuid))


async def conversation_by_fhir_id(session: AsyncSession, fhir_id: str) -> Conversation | None:
    return await session.scalar(select(Conversation).where(Conversation.fhir_id == fhir_id))


_PARTICIPANTS = (
    select(
        ConversationParticipant.user_id,
        User.full_name,
        User.system_permissions,
        User.fhir_patient_id,
        User.fhir_practitioner_id,
        ConversationParticipant.group_id,
        Group.name,
        Group.fhir_id,
    )
    .select_from(ConversationParticipant)
    .outerjoin(User, User.id == ConversationParticipant.user_id)
    .outerjoin(Group, Group.id == ConversationParticipant.group_id)
    .where(ConversationParticipant.conversation_id == bindparam("of_conversation", type_=Integer))
    .order_by(ConversationParticipant.id)
)


async def participants(session: AsyncSession, conversation_id: int) -> list[Party]:
    """Who takes part, in person or as a group, as FHIR names them, in the order they
    joined. Plain rows: this runs on every send."""
    result = await session.execute(_PARTICIPANTS, {"of_conversation": conversation_id})
    found = []
    for row in result:
        user_id, full_name, level, fhir_patient_id, practitioner, group_id, group_name, team = row
        if user_id is not None:
            patient_id = access.patient_acted_as(level, fhir_patient_id)
            resource = f"Practitioner/{practitioner}" if practitioner and not patient_id else None
            found.append(Party("user", user_id, patient_id, display=full_name, resource=resource))
        else:
            assert group_id is not None, "a participant is a user or a group"
            resource = f"Group/{team}" if team else None
            found.append(Party("group", group_id, display=group_name, resource=resource))
    return found


async def known_conversation_fhir_ids(session: AsyncSession, fhir_ids: set[str]) -> set[str]:
    """Which of these thread headers are Parley conversations."""
    known: set[str] = set()
    listed = sorted(fhir_ids)
    for start in range(0, len(listed), 500):  # within any database's limit on parameters
        chunk = listed[start : start + 500]
        statement = select(Conversation.fhir_id).where(Conversation.fhir_id.in_(chunk))
        known |= set((await session.scalars(statement)).all())
    return known


async def participant_keys(session: AsyncSession, conversation_id: int) -> set[tuple[str, int]]:
    statement = select(ConversationParticipant.user_id, ConversationParticipant.group_id).where(
        ConversationParticipant.conversation_id == conversation_id
    )
    keys: set[tuple[str, int]] = set()
    for user_id, group_id in await session.execute(statement):
        if user_id is not None:
            keys.add(("user", user_id))
        elif group_id is not None:
            keys.add(("group", group_id))
    return keys


async def message_exists(session: AsyncSession, uuid: UUID) -> bool:
    return (await session.scalar(select(Message.id).where(Message.uuid == uuid))) is not None


async def message_id_by_fhir_id(session: AsyncSession, fhir_id: str) -> int | None:
    return await session.scalar(select(Message.id).where(Message.fhir_id == fhir_id))


async def remember_failure(session: AsyncSession, fhir_id: str, kind: str, reason: str) -> None:
    failure = await session.get(ProjectionFailure, fhir_id)
    if failure is None:
        session.add(ProjectionFailure(fhir_id=fhir_id, kind=kind, reason=reason))
        return
    failure.reason = reason
    failure.attempts += 1
    failure.last_failed_at = utc_now()


async def forget_failure(session: AsyncSession, fhir_id: str) -> None:
    await session.execute(delete(ProjectionFailure).where(ProjectionFailure.fhir_id == fhir_id))


async def failures(session: AsyncSession, *, limit: int) -> list[ProjectionFailure]:
    statement = select(ProjectionFailure).order_by(ProjectionFailure.last_failed_at).limit(limit)
    return list(await session.scalars(statement))


async def end_wait(session: AsyncSession, conversation_id: int) -> None:
    """No patient is waiting on the conversation any more, so it is not overdue either."""
    await session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id)
        .values(awaiting_reply_since=None, overdue_since=None)
        .execution_options(synchronize_session=False)
    )


async def task_of(session: AsyncSession, conversation_id: int) -> ConversationTask | None:
    return await session.get(ConversationTask, conversation_id)
