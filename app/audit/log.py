"""Writing the audit log.

Rows join the caller's transaction, so an action and its record are kept or
lost together; a refusal is kept whatever happens to the request, since the
request that was refused usually fails.
"""

import functools
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Insert, bindparam, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import UpdateBase

from app.audit.models import AuditEvent
from app.db import CLIENT_ADDRESS, keep_whatever_happens, utc_now

_INSERT = insert(AuditEvent)  # built once: its values are bound at execution
ALLOWED = "allowed"
DENIED = "denied"


@dataclass(frozen=True)
class AuditEntry:
    action: str
    outcome: str = ALLOWED
    reason: str | None = None
    actor_id: int | None = None
    target_user_id: int | None = None
    patient_id: str | None = None
    conversation_id: int | None = None
    client_address: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


def record(session: AsyncSession, entry: AuditEntry) -> None:
    session.add(_row(session, entry))


async def record_at_once(
    session: AsyncSession,
    entry: AuditEntry,
    *,
    along_with: UpdateBase | None = None,
    parameters: dict[str, Any] | None = None,
) -> None:
    """`record` as one INSERT sent now, for hot paths that count their round trips: the
    unit of work would send the same row at commit, at several times the cost.

    `along_with` is the write the row records, a prebuilt statement whose named
    `parameters` are named like no column of its table (else they would be SET):
    PostgreSQL takes both in one statement, the write as a data-modifying CTE; SQLite
    runs the write first."""
    connection = await session.connection()
    values = _values(session, entry)
    if along_with is None:
        await connection.execute(_INSERT, values)
    elif connection.dialect.name == "postgresql":
        named = {f"audit_{column}": value for column, value in values.items()}
        await connection.execute(_insert_with(along_with), named | (parameters or {}))
    else:
        await connection.execute(along_with, parameters or {})
        await connection.execute(_INSERT, values)


@functools.cache
def _insert_with(write: UpdateBase) -> Insert:
    # Parameters named like a column would also be taken as values for the write's own
    # table (a `conversation_id` would be SET on every row it updates): the row's values
    # are therefore bound under names of their own.
    columns = [column.key for column in AuditEvent.__table__.columns if column.key != "id"]
    named = insert(AuditEvent).values({key: bindparam(f"audit_{key}") for key in columns})
    return named.add_cte(write.cte("recorded_write"))


def record_refusal(session: AsyncSession, entry: AuditEntry) -> None:
    """A refused attempt: written even when the request's own transaction rolls back."""
    keep_whatever_happens(session, _row(session, entry))


async def record_seen(
    session: AsyncSession,
    *,
    action: str,
    actor_id: int,
    seen: dict[str, list[int]],
) -> None:
    """A list that showed patient data: one row per patient, naming the conversations shown
    (`seen` maps patient id to conversation ids, empty for a list of patients). The rows go
    in one round trip, sent now: a page of fifty patients is fifty rows."""
    rows = [
        _values(
            session,
            AuditEntry(
                action=action,
                actor_id=actor_id,
                patient_id=patient_id,
                details={"conversation_ids": conversation_ids} if conversation_ids else {},
            ),
        )
        for patient_id, conversation_ids in sorted(seen.items())
    ]
    if rows:
        connection = await session.connection()
        # Many executions of one prebuilt row: psycopg sends them in one pipeline. (One
        # INSERT of many rows is not cached by SQLAlchemy and costs five times the CPU.)
        await connection.execute(_INSERT, rows)


def _row(session: AsyncSession, entry: AuditEntry) -> AuditEvent:
    return AuditEvent(**_values(session, entry))


def _values(session: AsyncSession, entry: AuditEntry) -> dict[str, Any]:
    return {
        "occurred_at": utc_now(),
        "action": entry.action,
        "outcome": entry.outcome,
        "reason": entry.reason,
        "actor_id": entry.actor_id,
        "target_user_id": entry.target_user_id,
        "patient_id": entry.patient_id,
        "conversation_id": entry.conversation_id,
        "client_address": entry.client_address or session.info.get(CLIENT_ADDRESS),
        "details": entry.details,
    }
