"""The administration start page and the audit log; the rest is in the `admin_*_router` modules."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from app.audit_trail import service as audit
from app.audit_trail.schemas import AuditFilter
from app.dependencies import SessionDep
from app.ids import OPTIONAL_PATIENT_ID_PATTERN
from app.web.dependencies import AdminOnly, WebActor
from app.web.templating import render

router = APIRouter(prefix="/admin", include_in_schema=False, dependencies=[AdminOnly])


@router.get("")
async def index(request: Request) -> HTMLResponse:
    return render(request, "admin/index.html", title="Administration")


@router.get("/audit")
async def audit_log(
    request: Request,
    actor: WebActor,
    session: SessionDep,
    patient_id: Annotated[str, Query(pattern=OPTIONAL_PATIENT_ID_PATTERN)] = "",
    user_id: Annotated[str, Query(max_length=12)] = "",
    since: Annotated[str, Query(max_length=10)] = "",
    cursor: str | None = None,
) -> HTMLResponse:
    filters = {"patient_id": patient_id, "user_id": user_id, "since": since}
    try:
        since_time = datetime.fromisoformat(since).replace(tzinfo=UTC) if since else None
        query = AuditFilter(
            patient_id=patient_id or None,
            user_id=int(user_id) if user_id else None,
            since=since_time,
        )
        page = await audit.list_events(session, actor, query, cursor=cursor, limit=100)
    except ValueError:
        return render(
            request,
            "admin/audit.html",
            status_code=422,
            title="Audit log",
            events=[],
            filters=filters,
            error="Check the user id and the date.",
            next_cursor=None,
        )
    return render(
        request,
        "admin/audit.html",
        title="Audit log",
        events=page.items,
        filters=filters,
        error=None,
        next_cursor=page.next_cursor,
    )
