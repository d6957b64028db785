"""The SQL side: declarative base, column types, engine and the per-request session."""

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from sqlalchemy import BigInteger, DateTime, Integer, MetaData, event
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator

from app.errors import AppError

logger = logging.getLogger("parley.db")

# Stable constraint names, so that migrations can name what they drop or alter.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# 64-bit ids on PostgreSQL for the tables that grow without bound; SQLite only
# auto-increments a column declared exactly INTEGER (which is 64-bit there anyway).
BigIntId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC in Python.

    PostgreSQL keeps the offset; SQLite keeps none, so values are normalised to
    UTC on the way in and marked UTC on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc_now() -> datetime:
    return datetime.now(UTC)


def create_engine(database_url: str, *, echo: bool = False) -> AsyncEngine:
    is_sqlite = database_url.startswith("sqlite")
    if is_sqlite:
        _create_sqlite_directory(database_url)
    # No JIT on PostgreSQL: its estimate of an inbox's cost (every conversation of a source,
    # before LIMIT) passes the JIT threshold, and compiling took 700 ms of a 5 ms query.
    connect_args: dict[str, Any] = {"timeout": 30} if is_sqlite else {}
    if not is_sqlite and "options" not in make_url(database_url).query:
        connect_args["options"] = "-c jit=off"  # a URL's own options are left as given
    pool = {} if is_sqlite else {"pool_size": 10, "max_overflow": 20}
    # Statement parameters are message text and patient ids: never in logs or error text.
    engine = create_async_engine(
        database_url,
        echo=echo,
        hide_parameters=True,
        pool_pre_ping=not is_sqlite,
        connect_args=connect_args,
        **pool,
    )
    if is_sqlite:
        event.listen(engine.sync_engine, "connect", _configure_sqlite_connection)
    return engine


def _create_sqlite_directory(database_url: str) -> None:
    database = make_url(database_url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def _configure_sqlite_connection(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    # Foreign keys are off by default in SQLite; WAL lets readers run beside a writer.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


async def end_reads(session: AsyncSession) -> None:
    """Hand the connection back before waiting on something slow elsewhere (FHIR, or a side
    transaction): a request never holds one connection while it waits for another, so a
    busy pool cannot deadlock, and no transaction idles across a network call.

    Only reads may have happened; the request's writes begin afresh afterwards.
    """
    if session.new or session.deleted or any(session.is_modified(item) for item in session.dirty):
        raise RuntimeError("end_reads called with unsaved changes: that would commit half a change")
    if session.in_transaction():
        await session.commit()


# Keys of `AsyncSession.info` that a request fills in for the code below it.
CLIENT_ADDRESS = "parley.client_address"
KEPT_ROWS = "parley.kept_rows"


def keep_whatever_happens(session: AsyncSession, row: Base) -> None:
    """A row written after the request's transaction ends, committed or rolled back: the
    record of a refused attempt must outlive the failed request that it explains."""
    session.info.setdefault(KEPT_ROWS, []).append(row)


async def write_kept_rows(session: AsyncSession) -> None:
    rows = session.info.pop(KEPT_ROWS, [])
    if not rows:
        return
    try:
        session.add_all(rows)
        await session.commit()
    except Exception:
        # Never hide the request's own outcome behind this one; say it happened, without
        # the rows (they may name patients).
        await session.rollback()
        logger.error("could not write %d kept audit rows", len(rows))


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session and one transaction per request, committed before the response.

    Used with `Depends(get_session, scope="function")`, so a failed commit becomes
    an error response the client sees (and can retry), never a silent loss.
    """
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with sessionmaker() as session:
        session.info[CLIENT_ADDRESS] = request.client.host if request.client else None
        try:
            yield session
            await session.commit()
        except AppError as error:
            await (session.commit() if error.keeps_changes else session.rollback())
            raise
        except BaseException:
            await session.rollback()
            raise
        finally:
            await write_kept_rows(session)
