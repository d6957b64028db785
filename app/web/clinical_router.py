"""The clinician's and the patient's pages: inbox, patients, conversations, live events."""

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sse_starlette import EventSourceResponse

from app.access.levels import at_least
from app.accounts.models import SystemPermission
from app.attachments import service as attachments
from app.attachments.responses import download_response
from app.conversations.models import ConversationStatus, InboxView
from app.dependencies import (
    FhirDep,
    SessionDep,
    SettingsDep,
)
from app.errors import AppError, InvalidInputError
from app.events import streaming
from app.groups import service as groups
from app.ids import OPTIONAL_PATIENT_ID_PATTERN, BigPathId, PathId, PatientQueryId
from app.messaging import conversations, inbox_view
from app.messaging.schemas import (
    ConversationCreate,
    StatusUpdate,
)
from app.organisations import service as organisations
from app.pagination import Page
from app.patients import service as patients
from app.web import inbox_tabs, patient_picker
from app.web.conversation_page import conversation_page, for_patients
from app.web.dependencies import CsrfChecked, WebActor, WebPrincipal
from app.web.forms import field_errors, form_values, parse
from app.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/")
async def home(principal: WebPrincipal) -> Response:
    """Admins who do not read records start in administration; everyone else in their inbox."""
    user = principal.user
    administers = at_least(user.system_permissions, SystemPermission.ADMIN)
    return RedirectResponse("/admin" if administers else "/inbox", status_code=303)


@router.get("/inbox")
async def inbox(
    request: Request,
    principal: WebPrincipal,
    session: SessionDep,
    status: str = "",
    patient_id: PatientQueryId = None,
    cursor: str | None = None,
    view: InboxView = InboxView.MINE,
    assigned: Annotated[str, Query(max_length=2)] = "",
) -> HTMLResponse:
    chosen = ConversationStatus(status) if status in ConversationStatus._value2member_map_ else None
    is_patient = principal.user.system_permissions is SystemPermission.PATIENT
    page = await inbox_view.list_inbox(
        session,
        principal.user,
        status=chosen,
        patient_id=patient_id,
        cursor=cursor,
        limit=50,
        view=view,
        assigned_to_me=assigned == "me",
    )
    return render(
        request,
        "inbox.html",
        **await for_patients(session, principal.user),
        title="Inbox",
        conversations=page.items,
        view=view.value,
        views=[] if is_patient else await inbox_tabs.view_tabs(session, principal.user),
        status=status if chosen else "",
        assigned="me" if assigned == "me" else "",
        next_cursor=page.next_cursor,
    )


@router.get("/patients")
async def patient_list(
    request: Request,
    actor: WebActor,
    session: SessionDep,
    q: Annotated[str, Query(max_length=100)] = "",
    cursor: str | None = None,
) -> HTMLResponse:
    """Every patient the caller may see, or those a search finds (name, NHS number, birth
    date); a search too short to run says so on the page."""
    error = None
    try:
        page = await patients.list_patients(
            session, actor, query=q.strip() or None, cursor=cursor, limit=100
        )
    except InvalidInputError as refused:
        error, page = refused.detail, Page(items=[], next_cursor=None)
    return render(
        request,
        "patients.html",
        title="Patients",
        patients=page.items,
        q=q,
        search_error=error,
        next_cursor=page.next_cursor,
    )


@router.get("/conversations/new")
async def new_conversation(
    request: Request,
    principal: WebPrincipal,
    actor: WebActor,
    session: SessionDep,
    patient_id: Annotated[str, Query(pattern=OPTIONAL_PATIENT_ID_PATTERN)] = "",
    patient_q: Annotated[str, Query(max_length=100)] = "",
) -> HTMLResponse:
    """Patient first: a search to choose them by, then the conversation's form under their
    banner. A patient the caller may not see is not chosen (and the look is refused)."""
    values: dict[str, object] = {"patient_id": patient_id}
    return await _new_form(
        request, principal.user.id, actor, session, values, {}, patient_q=patient_q
    )


async def _new_form(
    request: Request,
    user_id: int,
    actor: WebActor,
    session: SessionDep,
    values: dict[str, object],
    errors: dict[str, str],
    status: int = 200,
    *,
    patient_q: str = "",
) -> HTMLResponse:
    asked_for = str(values.get("patient_id") or "")
    patient = await patient_picker.chosen(session, actor, asked_for)
    if asked_for and patient is None:
        errors.setdefault("patient_id", "That patient cannot be chosen: find them again.")
    return render(
        request,
        "new_conversation.html",
        status_code=status,
        title="New conversation",
        patient=patient,
        q=patient_q,
        found=await patient_picker.find(session, actor, patient_q),
        colleagues=await organisations.colleagues_of(session, user_id) if patient else [],
        teams=await groups.teams_of_colleagues(session, user_id) if patient else [],
        values=values,
        errors=errors,
    )


@router.post("/conversations", dependencies=[CsrfChecked])
async def start(
    request: Request,
    principal: WebPrincipal,
    actor: WebActor,
    session: SessionDep,
    fhir: FhirDep,
) -> Response:
    values = await form_values(request)
    try:
        data = parse(
            ConversationCreate,
            {
                "patient_id": values.get("patient_id", ""),
                "subject": values.get("subject") or None,
                "participant_ids": values.get("participant_ids", []),
                "group_ids": values.get("group_ids", []),
                "include_patient": bool(values.get("include_patient")),
                "priority": "urgent" if values.get("urgent") else "routine",
                "message": {"text": values.get("text", "")},
            },
        )
        detail = await conversations.start_conversation(session, fhir, principal.user, data, None)
    except AppError as error:
        await session.rollback()  # nothing of the refused start is kept
        await session.refresh(principal.user)
        status, errors = error.status, field_errors(error)
        return await _new_form(request, principal.user.id, actor, session, values, errors, status)
    return RedirectResponse(f"/conversations/{detail.id}", status_code=303)


@router.get("/conversations/{conversation_id}")
async def conversation(
    request: Request,
    conversation_id: PathId,
    principal: WebPrincipal,
    session: SessionDep,
    before: str | None = None,
) -> HTMLResponse:
    return await conversation_page(request, session, principal.user, conversation_id, before=before)


@router.post("/conversations/{conversation_id}/status", dependencies=[CsrfChecked])
async def change_status(
    conversation_id: PathId,
    principal: WebPrincipal,
    session: SessionDep,
    fhir: FhirDep,
    status: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    data = parse(StatusUpdate, {"status": status})
    await conversations.change_status(session, fhir, principal.user, conversation_id, data)
    return RedirectResponse(f"/conversations/{conversation_id}", status_code=303)


@router.post("/conversations/{conversation_id}/join", dependencies=[CsrfChecked])
async def join(
    conversation_id: PathId, principal: WebPrincipal, session: SessionDep, fhir: FhirDep
) -> Response:
    await conversations.join(session, fhir, principal.user, conversation_id)
    return RedirectResponse(f"/conversations/{conversation_id}", status_code=303)


@router.get("/web/attachments/{attachment_id}")
async def attachment(
    attachment_id: BigPathId, principal: WebPrincipal, session: SessionDep, fhir: FhirDep
) -> Response:
    return download_response(
        await attachments.download(session, fhir, principal.user, attachment_id)
    )


@router.get("/web/events")
async def events(
    request: Request, principal: WebPrincipal, settings: SettingsDep
) -> EventSourceResponse:
    last = request.headers.get("last-event-id", "")
    return EventSourceResponse(
        streaming.stream(
            request.app.state.events,
            request.app.state.sessionmaker,
            principal,
            int(last) if last.isascii() and last.isdigit() and len(last) < 19 else None,
        ),
        ping=settings.events_ping_seconds,
    )
