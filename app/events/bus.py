"""One dispatcher per process: it reads new events from the outbox once and hands them to
every open stream, each of which decides what its user may see."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import psycopg
from sqlalchemy import Row
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.errors import where_raised
from app.events import service

logger = logging.getLogger(__name__)

SAFETY_POLL_SECONDS = 2.0  # in case a notification is lost
QUEUE_SIZE = 1000
# Ids are taken at insert and become visible at commit, not always in order:
# each read looks back this far for late-committed events.
LOOK_BACK = 200


@dataclass(frozen=True)
class LiveEvent:
    id: int
    type: str
    conversation_id: int
    payload: dict[str, Any]

    @classmethod
    def of(cls, row: Row[int, str, int, dict[str, Any]]) -> "LiveEvent":
        event_id, kind, conversation_id, payload = row
        return cls(event_id, kind, conversation_id, dict(payload))


class EventBus:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], database_url: str) -> None:
        self._sessionmaker = sessionmaker
        self._database_url = database_url
        self._subscribers: set[asyncio.Queue[LiveEvent | None]] = set()
        self._wake = asyncio.Event()
        self._delivered: set[int] = set()
        self._last_id: int | None = None  # learnt on the first read: streams start from now
        self._floor = 0  # events up to this one happened before this process listened
        self._tasks: list[asyncio.Task[None]] = []
        self._joining = asyncio.Lock()  # first subscribers catch up one at a time

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    async def start(self) -> None:
        service.on_local_commit(self._wake.set)
        self._tasks.append(asyncio.create_task(self._dispatch(), name="event-dispatch"))
        if self._database_url.startswith("postgresql"):
            self._tasks.append(asyncio.create_task(self._listen(), name="event-listen"))

    async def stop(self) -> None:
        service.remove_local_listener(self._wake.set)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for queue in self._subscribers:
            queue.put_nowait(None)

    @contextlib.asynccontextmanager
    async def subscription(self) -> AsyncIterator[asyncio.Queue[LiveEvent | None]]:
        queue: asyncio.Queue[LiveEvent | None] = asyncio.Queue(QUEUE_SIZE)
        async with self._joining:
            if not self._subscribers and self._last_id is not None:
                await self._catch_up()
            self._subscribers.add(queue)
        try:
            yield queue
        finally:
            self._subscribers.discard(queue)

    async def _catch_up(self) -> None:
        """Nobody listened, so nothing was read: learn what the outbox holds now, before
        listening, so a stream starts from now as every stream does. The ids committed
        near its end count as delivered; one committed late (a lower id than the newest)
        is still found by the look-back."""
        assert self._last_id is not None, "learnt before the first subscription"
        async with self._sessionmaker() as session:
            recent = await service.recent_ids(session, LOOK_BACK)
        if recent:
            self._last_id = max(self._last_id, max(recent))
        self._delivered = set(recent)

    async def _dispatch(self) -> None:
        while self._last_id is None:
            try:
                async with self._sessionmaker() as session:
                    self._last_id = self._floor = await service.latest_id(session)
            except Exception:  # the database may not be up yet; streams wait for it
                logger.warning("event dispatch cannot read the outbox yet; retrying")
                await asyncio.sleep(1)
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), SAFETY_POLL_SECONDS)
            self._wake.clear()
            try:
                await self._deliver_new()
            except Exception as error:  # the stream outlives a failed read; the next wake retries
                logger.error(
                    "event dispatch failed: %s", type(error).__name__,
                    extra={"stack": where_raised(error)},
                )  # fmt: skip

    async def _deliver_new(self) -> None:
        assert self._last_id is not None, "set before the first delivery"
        if not self._subscribers:  # nobody to tell; the next subscription catches up
            return
        async with self._sessionmaker() as session:
            since = max(self._floor, self._last_id - LOOK_BACK)
            rows = await service.events_after(session, since)
        for row in rows:
            if row.id in self._delivered:
                continue
            self._delivered.add(row.id)
            self._last_id = max(self._last_id, row.id)
            self._fan_out(LiveEvent.of(row))
        last = self._last_id
        self._delivered = {seen for seen in self._delivered if seen > last - LOOK_BACK}

    def _fan_out(self, live: LiveEvent) -> None:
        for queue in list(self._subscribers):
            try:
                queue.put_nowait(live)
            except asyncio.QueueFull:
                # A reader this far behind is ended; it reconnects and resumes from
                # the outbox with Last-Event-ID.
                self._subscribers.discard(queue)
                while not queue.empty():
                    queue.get_nowait()
                queue.put_nowait(None)

    async def _listen(self) -> None:
        """PostgreSQL: wake on NOTIFY from any process; reconnect if the connection drops."""
        conninfo = make_url(self._database_url).set(drivername="postgresql")
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    conninfo.render_as_string(hide_password=False), autocommit=True
                ) as connection:
                    await connection.execute(f"LISTEN {service.CHANNEL}")
                    async for _ in connection.notifies():
                        self._wake.set()
            except (OSError, psycopg.Error):
                logger.warning("event listener lost its connection; reconnecting")
                await asyncio.sleep(1)
