"""One caller's event stream: everything new that they may see, and nothing else.

Each event is checked against the caller's right to see its conversation at
that moment (cached for a couple of seconds), so removing someone from a
group or an organisation, or revoking a grant, stops their events too. Every
couple of seconds the stream also reloads its caller: a logout, a deactivation
or a change of level or competencies ends or narrows it within that time.
"""

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sse_starlette import ServerSentEvent

from app.access import service as access
from app.access.policy import Actor
from app.accounts import repository as auth_repository
from app.auth.service import Principal, login_stands
from app.conversations.models import Conversation
from app.db import utc_now
from app.events import service
from app.events.bus import EventBus, LiveEvent

VISIBILITY_SECONDS = 2.0
REAUTHORISE_SECONDS = 2.0
QUIET = LiveEvent(id=0, type="", conversation_id=0, payload={})  # no event came in time


@dataclass
class Visibility:
    sessionmaker: async_sessionmaker[AsyncSession]
    actor: Actor
    _known: dict[int, tuple[float, bool]] = field(default_factory=dict)

    async def may_see(self, conversation_id: int) -> bool:
        now = time.monotonic()
        known = self._known.get(conversation_id)
        if known is not None and now - known[0] < VISIBILITY_SECONDS:
            return known[1]
        async with self.sessionmaker() as session:
            found = await session.scalar(
                select(Conversation.id).where(
                    Conversation.id == conversation_id, access.visible_conversations(self.actor)
                )
            )
        self._known[conversation_id] = (now, found is not None)
        return found is not None

    def follow(self, actor: Actor) -> None:
        """The caller as they are now: what they may see is decided afresh if they changed."""
        if actor != self.actor:
            self.actor = actor
            self._known.clear()


async def current_actor(
    sessionmaker: async_sessionmaker[AsyncSession], principal: Principal
) -> Actor | None:
    """The caller as the database has them now, or None when their login no longer holds."""
    async with sessionmaker() as session:
        found = await auth_repository.load_principal(
            session, user_id=principal.user.id, session_id=principal.session_id
        )
    if found is None:
        return None
    user, auth_session = found
    stands = login_stands(
        user, auth_session, now=utc_now(), token_version=principal.user.token_version
    )
    return access.actor_of(user) if stands else None


# Changes of the care team's triage, which a patient is not told of (not even that one
# happened: an `overdue` would say how long the team has left them waiting).
TRIAGE_CHANGES = frozenset({"assignee", "done", "priority", "overdue"})


def _for(actor: Actor, event: LiveEvent) -> bool:
    return actor.is_staff or event.payload.get("changed") not in TRIAGE_CHANGES


def to_sse(event: LiveEvent) -> ServerSentEvent:
    data = {"conversation_id": event.conversation_id, **event.payload}
    return ServerSentEvent(data=json.dumps(data), event=event.type, id=str(event.id))


async def stream(
    bus: EventBus,
    sessionmaker: async_sessionmaker[AsyncSession],
    principal: Principal,
    last_event_id: int | None,
) -> AsyncIterator[ServerSentEvent]:
    visibility = Visibility(sessionmaker, access.actor_of(principal.user))
    replayed: set[int] = set()
    # Subscribe before reading the backlog, so nothing falls between the two.
    async with bus.subscription() as queue:
        if last_event_id is not None:
            async with sessionmaker() as session:
                backlog = await service.events_after(
                    session, last_event_id, limit=service.KEEP_EVENTS
                )
            for row in backlog:
                replayed.add(row.id)
                event = LiveEvent.of(row)
                if _for(visibility.actor, event) and await visibility.may_see(row.conversation_id):
                    yield to_sse(event)
        # Checked on a clock, not only when the stream is quiet: on a busy server events
        # never let it be quiet, and an ended login must stop hearing them all the same.
        recheck_at = time.monotonic() + REAUTHORISE_SECONDS
        while (live := await _next(queue, recheck_at)) is not None:
            if time.monotonic() >= recheck_at:
                actor = await current_actor(sessionmaker, principal)
                if actor is None:
                    return
                visibility.follow(actor)
                recheck_at = time.monotonic() + REAUTHORISE_SECONDS
            # The bus hands each live event out once; only the backlog may repeat one.
            if live is QUIET or live.id in replayed:
                continue
            if _for(visibility.actor, live) and await visibility.may_see(live.conversation_id):
                yield to_sse(live)


async def _next(queue: asyncio.Queue[LiveEvent | None], recheck_at: float) -> LiveEvent | None:
    """The next live event, QUIET when the time to recheck comes first, None when the bus
    closes."""
    try:
        return await asyncio.wait_for(queue.get(), max(0.0, recheck_at - time.monotonic()))
    except TimeoutError:
        return QUIET
