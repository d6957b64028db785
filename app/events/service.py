"""Publishing live events: a row in the outbox, in the transaction of the change.

Listeners learn of new rows without polling: PostgreSQL delivers a NOTIFY at
commit to every app process; on SQLite (one process) the commit hook wakes the
local bus.
"""

from collections.abc import Callable
from typing import Any

from sqlalchemy import Row, delete, event, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from app.db import utc_now
from app.events.models import Event

CHANNEL = "parley_events"
KEEP_EVENTS = 10_000  # Last-Event-ID can resume across at least this many
PRUNE_EVERY = 1_000  # events between two prunings of the outbox

_local_listeners: list[Callable[[], None]] = []


def on_local_commit(listener: Callable[[], None]) -> None:
    _local_listeners.append(listener)


def remove_local_listener(listener: Callable[[], None]) -> None:
    if listener in _local_listeners:
        _local_listeners.remove(listener)


def _wake_local(_session: Session) -> None:
    for listener in list(_local_listeners):
        listener()


# Built once; the NOTIFY rides in the INSERT's RETURNING on PostgreSQL (a NOTIFY is
# delivered at commit, and not at all on rollback).
_PUBLISH = insert(Event).returning(Event.id)
_PUBLISH_AND_NOTIFY = insert(Event).returning(Event.id, func.pg_notify(CHANNEL, ""))


async def publish(session: AsyncSession, kind: str, conversation_id: int, **payload: Any) -> None:
    """One statement, on the session's connection: the outbox row (and the NOTIFY)."""
    connection = await session.connection()
    statement = _PUBLISH_AND_NOTIFY if connection.dialect.name == "postgresql" else _PUBLISH
    row = {"type": kind, "conversation_id": conversation_id, "payload": payload}
    event_id = (await connection.execute(statement, row | {"created_at": utc_now()})).scalar_one()
    await after_publishing(session, event_id)


async def after_publishing(session: AsyncSession, event_id: int) -> None:
    """What follows writing an event, however it was written: pruning now and then (not
    on every event: a publish stays one INSERT almost always), and waking this process's
    streams at commit."""
    if event_id % PRUNE_EVERY == 0:
        await prune(session, newest=event_id)
    if not event.contains(session.sync_session, "after_commit", _wake_local):
        event.listen(session.sync_session, "after_commit", _wake_local, once=True)


async def events_after(
    session: AsyncSession, last_id: int, *, limit: int = 1000
) -> list[Row[int, str, int, dict[str, Any]]]:
    """(id, type, conversation_id, payload) of the events after `last_id`, oldest first:
    plain rows, since a dispatcher reads them after every commit of every send."""
    statement = (
        select(Event.id, Event.type, Event.conversation_id, Event.payload)
        .where(Event.id > last_id)
        .order_by(Event.id)
        .limit(limit)
    )
    return list(await session.execute(statement))


async def recent_ids(session: AsyncSession, count: int) -> list[int]:
    """The ids of the outbox's last `count` events, read in one statement (one snapshot)."""
    newest = select(func.max(Event.id)).scalar_subquery()
    statement = select(Event.id).where(Event.id > newest - count)
    return list(await session.scalars(statement))


async def latest_id(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.max(Event.id))) or 0)


async def prune(session: AsyncSession, *, newest: int) -> None:
    """Forget what is older than the last KEEP_EVENTS: the outbox does not grow for ever."""
    await session.execute(delete(Event).where(Event.id <= newest - KEEP_EVENTS))
