"""Escalation: a conversation whose patient has waited longer for a staff reply than one
of its organisations allows (`escalate_unanswered_after_hours`, 0: never) turns overdue.

A pass marks each newly overdue conversation (`overdue_since`) and tells its open pages
(`conversation.updated`, changed `overdue`); it also clears the mark where the wait no
longer counts (the organisation allowed longer, or stopped escalating). A clinician's
reply clears it in the send's own statement, and marking the conversation done ends the
wait. Each mark is claimed by an UPDATE that re-checks `overdue_since IS NULL` on the
locked row, so several app processes running passes at once fire each escalation once.
"""

import asyncio
import logging
from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, exists, false, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.conversations.models import (
    Conversation,
    ConversationOrganisation,
)
from app.db import utc_now
from app.directory.organisations import Organisation
from app.errors import where_raised
from app.events import service as events
from app.messaging import repository

logger = logging.getLogger(__name__)

# Conversations marked in one transaction: a first pass over a large backlog commits as
# it goes instead of holding thousands of row locks.
BATCH = 500


async def escalate_forever(
    sessionmaker: async_sessionmaker[AsyncSession], *, interval_seconds: float
) -> None:
    while True:
        await asyncio.sleep(interval_seconds)
        try:
            await run_pass(sessionmaker)
        except Exception as error:  # a failed pass is retried at the next interval
            logger.error(
                "escalation pass failed: %s", type(error).__name__,
                extra={"stack": where_raised(error)},
            )  # fmt: skip


async def run_pass(sessionmaker: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    """Mark what turned overdue and clear what no longer is: (marked, cleared)."""
    now = utc_now()
    async with sessionmaker() as session:
        due = await _due(session, now)
    marked = await _in_batches(sessionmaker, _to_mark(due), now)
    cleared = await _in_batches(sessionmaker, _to_clear(due, now), None)
    if marked or cleared:
        logger.info("escalation: %d conversations overdue, %d no longer", marked, cleared)
    return marked, cleared


async def _due(session: AsyncSession, now: datetime) -> ColumnElement[bool]:
    """Whether a conversation's patient has waited longer than one of its organisations
    allows: one condition per distinct allowance, so the statement stays small however
    many organisations there are."""
    allowances: dict[float, list[int]] = defaultdict(list)
    rows = await session.execute(
        select(Organisation.escalate_unanswered_after_hours, Organisation.id).where(
            Organisation.escalate_unanswered_after_hours > 0
        )
    )
    for hours, organisation_id in rows:
        allowances[hours].append(organisation_id)
    waiting = Conversation.awaiting_reply_since
    return or_(
        false(),
        *(
            and_(
                waiting < now - timedelta(hours=hours),
                exists().where(
                    ConversationOrganisation.conversation_id == Conversation.id,
                    ConversationOrganisation.organisation_id.in_(organisation_ids),
                ),
            )
            for hours, organisation_ids in sorted(allowances.items())
        ),
    )


def _to_mark(due: ColumnElement[bool]) -> ColumnElement[bool]:
    return and_(
        Conversation.overdue_since.is_(None),
        Conversation.awaiting_reply_since.is_not(None),
        repository.still_to_do(),
        due,
    )


def _to_clear(due: ColumnElement[bool], now: datetime) -> ColumnElement[bool]:
    """Marks made by this pass's `now` that it would not make. A mark another process made
    after it is newer than `now`, and left alone: by that process's later clock the wait
    was long enough, though by this pass's it was not yet."""
    return and_(Conversation.overdue_since <= now, ~due)


async def _in_batches(
    sessionmaker: async_sessionmaker[AsyncSession],
    condition: ColumnElement[bool],
    overdue_since: datetime | None,
) -> int:
    """Set `overdue_since` where `condition` holds, BATCH rows a transaction, each with its
    event. The condition is on the UPDATE itself, so a row another process changed first
    is re-checked after its lock and skipped."""
    total = 0
    while True:
        async with sessionmaker() as session, session.begin():
            # In id order, skipping rows another process holds: passes never wait on
            # each other in a cycle, and what one skips the other is marking.
            batch = (
                select(Conversation.id)
                .where(condition)
                .order_by(Conversation.id)
                .limit(BATCH)
                .with_for_update(skip_locked=True)
                .scalar_subquery()
            )
            changed = (
                await session.execute(
                    update(Conversation)
                    .where(Conversation.id.in_(batch), condition)
                    .values(overdue_since=overdue_since)
                    .returning(Conversation.id)
                    .execution_options(synchronize_session=False)
                )
            ).scalars().all()  # fmt: skip
            for conversation_id in changed:
                await events.publish(
                    session, "conversation.updated", conversation_id, changed="overdue"
                )
        total += len(changed)
        if len(changed) < BATCH:
            return total
