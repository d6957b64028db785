from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.audit.models import AuditEvent
from app.audit_trail.schemas import AuditFilter, Outcome
from app.directory.patients import PatientMetadata

# Rows written before revision 0009 said `success` where they now say `allowed`.
ALLOWED_OUTCOMES = ("allowed", "success")


async def page(
    session: AsyncSession, query: AuditFilter, *, before_id: int | None, limit: int
) -> list[AuditEvent]:
    """Newest first; `user_id` matches the actor or the user acted upon."""
    statement = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if query.patient_id is not None:
        statement = statement.where(AuditEvent.patient_id == query.patient_id)
    if query.user_id is not None:
        statement = statement.where(
            or_(AuditEvent.actor_id == query.user_id, AuditEvent.target_user_id == query.user_id)
        )
    if query.action is not None:
        statement = statement.where(AuditEvent.action == query.action)
    if query.outcome is Outcome.ALLOWED:
        statement = statement.where(AuditEvent.outcome.in_(ALLOWED_OUTCOMES))
    elif query.outcome is Outcome.DENIED:
        statement = statement.where(AuditEvent.outcome.not_in(ALLOWED_OUTCOMES))
    if query.since is not None:
        statement = statement.where(AuditEvent.occurred_at >= query.since)
    if query.until is not None:
        statement = statement.where(AuditEvent.occurred_at < query.until)
    if before_id is not None:
        statement = statement.where(AuditEvent.id < before_id)
    return list(await session.scalars(statement))


@dataclass(frozen=True)
class Names:
    users: dict[int, str]
    patients: dict[str, str]


async def names_of(session: AsyncSession, *, user_ids: set[int], patient_ids: set[str]) -> Names:
    users = await session.execute(
        select(User.id, User.full_name).where(User.id.in_(sorted(user_ids)))
    )
    patients = await session.execute(
        select(
            PatientMetadata.patient_id, PatientMetadata.given_name, PatientMetadata.family_name
        ).where(PatientMetadata.patient_id.in_(sorted(patient_ids)))
    )
    return Names(
        users={row.id: row.full_name for row in users},
        patients={pid: f"{given} {family}" for pid, given, family in patients},
    )
