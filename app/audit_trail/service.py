"""Reading the audit log: admins only, newest first, with names beside the ids."""

from sqlalchemy.ext.asyncio import AsyncSession

from app.access import service as access
from app.access.actions import Action
from app.access.policy import Actor
from app.audit.log import ALLOWED, DENIED
from app.audit.models import AuditEvent
from app.audit_trail import repository
from app.audit_trail.schemas import AuditEventRead, AuditFilter, NamedRef
from app.pagination import Page, decode_cursor, encode_cursor


async def list_events(
    session: AsyncSession, actor: Actor, query: AuditFilter, *, cursor: str | None, limit: int
) -> Page[AuditEventRead]:
    await access.authorize(session, actor, Action.AUDIT_READ)
    before_id = decode_cursor(cursor, int)[0] if cursor else None
    rows = await repository.page(session, query, before_id=before_id, limit=limit + 1)
    page = rows[:limit]
    names = await repository.names_of(
        session,
        user_ids={row.actor_id for row in page if row.actor_id is not None},
        patient_ids={row.patient_id for row in page if row.patient_id is not None},
    )
    next_cursor = encode_cursor(rows[limit - 1].id) if len(rows) > limit else None
    return Page(items=[_read(row, names) for row in page], next_cursor=next_cursor)


def _read(row: AuditEvent, names: repository.Names) -> AuditEventRead:
    allowed = row.outcome in repository.ALLOWED_OUTCOMES
    return AuditEventRead(
        id=row.id,
        occurred_at=row.occurred_at,
        at=row.occurred_at,
        actor_id=row.actor_id,
        actor=NamedRef(id=row.actor_id, name=names.users.get(row.actor_id, ""))
        if row.actor_id is not None
        else None,
        action=row.action,
        outcome=ALLOWED if allowed else DENIED,
        reason=None if allowed else row.reason or row.outcome,
        target_user_id=row.target_user_id,
        patient_id=row.patient_id,
        patient=NamedRef(id=row.patient_id, name=names.patients.get(row.patient_id, ""))
        if row.patient_id is not None
        else None,
        conversation_id=row.conversation_id,
        client_address=row.client_address,
        details=row.details,
    )
