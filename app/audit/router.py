from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime

from app.access.actions import Action
from app.access.dependencies import authorized
from app.audit import service
from app.audit.schemas import AuditEventRead
from app.auth.service import Principal
from app.dependencies import SessionDep
from app.ids import QueryId
from app.pagination import CursorQuery, LimitQuery, Page

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])

CanRead = Annotated[Principal, Depends(authorized(Action.AUDIT_READ))]


@router.get("")
async def list_events(
    _: CanRead,
    session: SessionDep,
    patient_id: Annotated[str | None, Query(max_length=64)] = None,
    user_id: QueryId = None,
    since: AwareDatetime | None = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[AuditEventRead]:
    """The audit log, newest first (admin); filter by patient, user (actor or target), time."""
    return await service.list_events(
        session, patient_id=patient_id, user_id=user_id, since=since, cursor=cursor, limit=limit
    )
