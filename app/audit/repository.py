from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEvent


async def page(
    session: AsyncSession,
    *,
    patient_id: str | None,
    user_id: int | None,
    since: datetime | None,
    before_id: int | None,
    limit: int,
) -> list[AuditEvent]:
    """Newest first; `user_id` matches the actor or the user acted upon."""
    statement = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if patient_id is not None:
        statement = statement.where(AuditEvent.patient_id == patient_id)
    if user_id is not None:
        statement = statement.where(
            or_(AuditEvent.actor_id == user_id, AuditEvent.target_user_id == user_id)
        )
    if since is not None:
        statement = statement.where(AuditEvent.occurred_at >= since)
    if before_id is not None:
        statement = statement.where(AuditEvent.id < before_id)
    return list(await session.scalars(statement))
