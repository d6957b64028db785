from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from app.audit_trail import service
from app.audit_trail.schemas import AuditEventRead, AuditFilter, Outcome
from app.auth.dependencies import ActorDep
from app.dependencies import SessionDep
from app.ids import PatientQueryId, QueryId
from app.pagination import CursorQuery, LimitQuery, Page

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


@router.get("")
async def list_events(
    actor: ActorDep,
    session: SessionDep,
    patient_id: PatientQueryId = None,
    user_id: QueryId = None,
    action: Annotated[str | None, Query(pattern=r"^[a-z_]+(\.[a-z_]+)*$", max_length=64)] = None,
    outcome: Outcome | None = None,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[AuditEventRead]:
    """The audit log, newest first (admin): filter by patient, user (actor or target),
    action, outcome (`allowed`, `denied`: refused attempts are rows too) and time."""
    query = AuditFilter(
        patient_id=patient_id,
        user_id=user_id,
        action=action,
        outcome=outcome,
        since=since,
        until=until,
    )
    return await service.list_events(session, actor, query, cursor=cursor, limit=limit)
