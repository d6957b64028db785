"""Writing the audit log. Rows join the caller's transaction, so an action and its
record are kept or lost together."""

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEvent


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
