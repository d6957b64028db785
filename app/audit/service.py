"""Writing the audit log. Rows join the caller's transaction, so an action and its
record are kept or lost together."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import repository
from app.audit.models import AuditEvent
from app.audit.schemas import AuditEventRead
from app.pagination import Page, decode_cursor, encode_cursor


@dataclass(frozen=True)
class AuditEntry:
    action: str
    outcome: str = "success"
    actor_id: int | None = None
    target_user_id: int | None = None
    patient_id: str | None = None
    conversation_id: int | None = None
    client_address: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


def record(session: AsyncSession, entry: AuditEntry) -> None:
    session.add(
        AuditEvent(
            action=entry.action,
            outcome=entry.outcome,
            actor_id=entry.actor_id,
            target_user_id=entry.target_user_id,
            patient_id=entry.patient_id,
            conversation_id=entry.conversation_id,
            client_address=entry.client_address,
            details=entry.details,
        )
    )


async def list_events(
    session: AsyncSession,
    *,
    patient_id: str | None,
    user_id: int | None,
    since: datetime | None,
    cursor: str | None,
    limit: int,
) -> Page[AuditEventRead]:
    before_id = decode_cursor(cursor, int)[0] if cursor else None
    rows = await repository.page(
        session, patient_id=patient_id, user_id=user_id, since=since, before_id=before_id,
        limit=limit + 1,
    )  # fmt: skip
    next_cursor = encode_cursor(rows[limit - 1].id) if len(rows) > limit else None
    return Page(
        items=[AuditEventRead.model_validate(row) for row in rows[:limit]], next_cursor=next_cursor
    )
