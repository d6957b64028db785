"""Every SQL query of messaging. Reads take a visibility condition from app.access."""

import dataclasses
import functools
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import (
    Select,
    and_,
    bindparam,
    delete,
    func,
    literal,
    or_,
    select,
    tuple_,
    union,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.access.relations import ListingShape, Source, conversation_listing
from app.accounts.models import User
from app.conversations.models import (
    Conversation,
    ConversationOrganisation,
    ConversationParticipant,
    ConversationStatus,
)
from app.db import UtcDateTime, utc_now
from app.directory.groups import Group, GroupMember
from app.directory.organisations import StaffMembership
from app.messaging.models import Message, MessageReceipt, ProjectionFailure
from app.messaging.records import InboxRow, ParticipantRow


async def lock_conversation(session: AsyncSession, conversation_id: int) -> None:
    """Hold the conversation's row until the transaction ends (PostgreSQL; SQLite writes
    one at a time anyway): for checks that must not race another send."""
    await session.execute(
        select(Conversation.id).where(Conversation.id == conversation_id).with_for_update()
    )


async def participants_of(
    session: AsyncSession, conversation_ids: list[int]
) -> dict[int, list[ParticipantRow]]:
    statement = (
        select(
            ConversationParticipant.conversation_id,
            ConversationParticipant.user_id,
            ConversationParticipant.group_id,
            ConversationParticipant.role,
            User.full_name,
            User.fhir_patient_id,
            Group.name,
        )
        .outerjoin(User, User.id == ConversationParticipant.user_id)
        .outerjoin(Group, Group.id == ConversationParticipant.group_id)
        .where(ConversationParticipant.conversation_id.in_(conversation_ids))
        .order_by(ConversationParticipant.conversation_id, ConversationParticipant.id)
    )
    found: dict[int, list[ParticipantRow]] = defaultdict(list)
    for (
        conversation_id,
        user_id,
        group_id,
        role,
        user_name,
        patient_id,
        group_name,
    ) in await session.execute(statement):
        if user_id is not None:
            row = ParticipantRow("user", user_id, user_name or "", role, patient_id)
        else:
            assert group_id is not None, "a participant is a user or a group"
            row = ParticipantRow("group", group_id, group_name or "", role)
        found[conversation_id].append(row)
    return found


async def organisation_ids(session: AsyncSession, conversation_id: int) -> list[int]:
    statement = (
        select(ConversationOrganisation.organisation_id)
        .where(ConversationOrganisation.conversation_id == conversation_id)
        .order_by(ConversationOrganisation.organisation_id)
    )
    return list(await session.scalars(statement))


async def memberships(session: AsyncSession, user_id: int) -> tuple[list[int], list[int]]:
    """The organisations a user staffs and the groups they belong to, in one query."""
    statement = union_all(
        select(literal("organisation"), StaffMembership.organisation_id).where(
            StaffMembership.user_id == user_id
        ),
        select(literal("group"), GroupMember.group_id).where(GroupMember.user_id == user_id),
    )
    organisations: list[int] = []
    groups: list[int] = []
    for kind, row_id in await session.execute(statement):
        (organisations if kind == "organisation" else groups).append(row_id)
    return sorted(organisations), sorted(groups)


async def inbox_page(
    session: AsyncSession,
    *,
    shape: ListingShape,
    values: dict[str, object],
    status: ConversationStatus | None,
    patient_id: str | None,
    after: tuple[datetime, int] | None,
    limit: int,
) -> list[InboxRow]:
    """Newest activity first, with each conversation's last message and its sender."""
    statement = _inbox_statement(
        shape, status is not None, patient_id is not None, after is not None
    )
    parameters = values | {
        "inbox_limit": limit,
        "inbox_status": status,
        "inbox_patient": patient_id,
    }
    if after is not None:
        parameters |= {"inbox_after_at": after[0], "inbox_after_id": after[1]}
    rows = await session.execute(statement, parameters)
    return [InboxRow(conversation, message, name) for conversation, message, name in rows]


@functools.cache
def _inbox_statement(
    shape: ListingShape, by_status: bool, by_patient: bool, paged: bool
) -> Select[Conversation, Message, str]:
    """Each source gives its newest `limit` readable conversations from an index of its own,
    so a page costs about `limit` rows a source, however many conversations there are;
    every conversation the caller may read is in one source, so the newest `limit` of
    their union are the page. Built once per shape of caller and of request."""
    listing = conversation_listing(shape)
    branches = [_candidates(source, by_status, by_patient, paged) for source in listing.sources]
    candidates = union(*branches).subquery()
    return (
        select(Conversation, Message, User.full_name)
        .join(candidates, candidates.c.id == Conversation.id)
        .outerjoin(Message, Message.id == Conversation.last_message_id)
        .outerjoin(User, User.id == Message.sender_id)
        .order_by(Conversation.last_message_at.desc(), Conversation.id.desc())
        .limit(bindparam("inbox_limit"))
    )


def _candidates(source: Source, by_status: bool, by_patient: bool, paged: bool) -> Select[int]:
    branch = (
        select(source.conversation_id.label("id"))
        .join(Conversation, Conversation.id == source.conversation_id)
        .where(source.condition, source.rest)
        .order_by(source.recency.desc(), source.conversation_id.desc())
        .limit(bindparam("inbox_limit"))
    )
    if by_status:
        branch = branch.where(Conversation.status == bindparam("inbox_status"))
    if by_patient:
        branch = branch.where(Conversation.patient_id == bindparam("inbox_patient"))
    if paged:
        after = tuple_(bindparam("inbox_after_at", type_=UtcDateTime), bindparam("inbox_after_id"))
        branch = branch.where(tuple_(source.recency, source.conversation_id) < after)
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


async def thread_page(
    session: AsyncSession, conversation_id: int, *, before: tuple[datetime, int] | None, limit: int
) -> list[tuple[Message, str]]:
    """The newest `limit` messages older than the cursor, newest first, with sender names."""
    statement = (
        select(Message, User.full_name)
        .join(User, User.id == Message.sender_id)
        .where(Message.conversation_id == conversation_id)
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(limit)
    )
    if before is not None:  # a row comparison: the thread's index can seek to it
        statement = statement.where(tuple_(Message.created_at, Message.id) < tuple_(*before))
    return [(message, name) for message, name in await session.execute(statement)]


async def message_with_sender(session: AsyncSession, message_id: int) -> tuple[Message, str]:
    row = (
        await session.execute(
            select(Message, User.full_name)
            .join(User, User.id == Message.sender_id)
            .where(Message.id == message_id)
        )
    ).one()
    return row[0], row[1]


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


@dataclass(frozen=True)
class MessageState:
    """What has happened to a message since it was sent."""

    amended_by: int | None  # the newest message that amends it
    delivered_to: list[int]
    read_by: list[int]


async def message_states(session: AsyncSession, message_ids: list[int]) -> dict[int, MessageState]:
    """For each message: its newest amendment, who it was delivered to, who read it; in
    one query (a row per receipt)."""
    amendment = aliased(Message)
    newest_amendment = (
        select(func.max(amendment.id)).where(amendment.amends_id == Message.id).scalar_subquery()
    )
    statement = (
        select(
            Message.id,
            newest_amendment,
            MessageReceipt.user_id,
            MessageReceipt.delivered_at,
            MessageReceipt.read_at,
        )
        .outerjoin(MessageReceipt, MessageReceipt.message_id == Message.id)
        .where(Message.id.in_(message_ids))
        .order_by(Message.id, MessageReceipt.user_id)
    )
    states = {message_id: MessageState(None, [], []) for message_id in message_ids}
    for message_id, amended_by, user_id, delivered_at, read_at in await session.execute(statement):
        state = states[message_id] = dataclasses.replace(states[message_id], amended_by=amended_by)
        if user_id is None:
            continue
        if delivered_at is not None or read_at is not None:
            state.delivered_to.append(user_id)
        if read_at is not None:
            state.read_by.append(user_id)
    return states


async def mark_delivered(
    session: AsyncSession, user_id: int, message_ids: list[int], now: datetime
) -> None:
    await session.execute(
        update(MessageReceipt)
        .where(
            MessageReceipt.user_id == user_id,
            MessageReceipt.message_id.in_(message_ids),
            MessageReceipt.delivered_at.is_(None),
        )
        .values(delivered_at=now)
        .execution_options(synchronize_session=False)
    )


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


async def message_by_uuid(session: AsyncSession, uuid: UUID) -> Message | None:
    return await session.scalar(select(Message).where(Message.uuid == uuid))


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
