"""The clinician's and the patient's pages: inbox, patients, conversations, live events."""

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sse_starlette import EventSourceResponse
from starlette.datastructures import UploadFile

from app.access.levels import at_least
from app.accounts.models import SystemPermission
from app.attachments import service as attachments
from app.attachments.responses import download_response
from app.conversations.models import ConversationStatus
from app.dependencies import (
    FhirDep,
    MediaWorkersDep,
    SessionDep,
    SettingsDep,
)
from app.errors import AppError, InvalidInputError
from app.events import streaming
from app.ids import BigPathId, PathId, PatientQueryId
from app.messaging import conversations, inbox_view, sending, thread_view
from app.messaging.schemas import (
    MAX_TEXT,
    ConversationCreate,
    MessageCreate,
    StatusUpdate,
)
from app.messaging.uploads import read_upload
from app.organisations import service as organisations
from app.pagination import Page
from app.patients import nhs_number
from app.patients import service as patients
from app.patients.schemas import PatientRead
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
) -> HTMLResponse:
    chosen = ConversationStatus(status) if status in ConversationStatus._value2member_map_ else None
    page = await inbox_view.list_inbox(
        session, principal.user, status=chosen, patient_id=patient_id, cursor=cursor, limit=50
    )
    return render(
        request,
        "inbox.html",
        title="Inbox",
        conversations=page.items,
        status=status if chosen else "",
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
    patient_id: str = "",
) -> HTMLResponse:
    return await _new_form(
        request, principal.user.id, actor, session, {"patient_id": patient_id}, {}
    )


def picker_label(patient: PatientRead) -> str:
    """A name alone is not enough to choose by: two Alex Smiths differ in birth date and
    NHS number, so every choice shows both."""
    born = patient.birth_date
    when = f"born {born.day} {born:%b %Y}" if born else "birth date not recorded"
    number = (
        f"NHS {nhs_number.shown(patient.nhs_number)}" if patient.nhs_number else "no NHS number"
    )
    return f"{patient.family_name}, {patient.given_name} \u2014 {when} \u00b7 {number}"


async def _new_form(
    request: Request,
    user_id: int,
    actor: WebActor,
    session: SessionDep,
    values: dict[str, object],
    errors: dict[str, str],
    status: int = 200,
) -> HTMLResponse:
    page = await patients.list_patients(session, actor, cursor=None, limit=200)
    # Never a default: the first option asks for a choice.
    choices = [("", "Choose a patient")] + [
        (p.id, picker_label(p)) for p in page.items if p.is_active
    ]
    colleagues = await organisations.colleagues_of(session, user_id)
    return render(
        request,
        "new_conversation.html",
        status_code=status,
        title="New conversation",
        patients=choices,
        colleagues=colleagues,
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
                "include_patient": bool(values.get("include_patient")),
                "message": {"text": values.get("text", "")},
            },
        )
        detail = await conversations.start_conversation(session, fhir, principal.user, data, None)
    except AppError as error:
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
    opened = await thread_view.open_conversation(
        session, principal.user, conversation_id, before=before, limit=50
    )
    detail = opened.detail
    return render(
        request,
        "conversation.html",
        title=detail.subject or "Conversation",
        conversation=detail,
        messages=opened.messages.items,
        older_cursor=opened.messages.next_cursor,
        attachments_on=opened.attachments_on,
    )


@router.post("/conversations/{conversation_id}/messages", dependencies=[CsrfChecked])
async def send(
    request: Request,
    conversation_id: PathId,
    principal: WebPrincipal,
    session: SessionDep,
    fhir: FhirDep,
    settings: SettingsDep,
    workers: MediaWorkersDep,
) -> Response:
    form = await request.form()
    upload = form.get("file")
    text = form.get("text")
    text = text.strip() if isinstance(text, str) else ""
    user = principal.user
    if isinstance(upload, UploadFile) and upload.filename:
        sent = await read_upload(
            upload, text=text[:MAX_TEXT] or None, limit=settings.attachment_max_bytes
        )
        await sending.send_attachment(
            session, fhir, user, conversation_id, sent, None, workers=workers
        )
    else:
        amends = form.get("amends_id")
        if not text:
            raise InvalidInputError("Write a message, or attach a file.", field=("body", "text"))
        data_in = parse(
            MessageCreate, {"text": text, "amends_id": amends if isinstance(amends, str) else ""}
        )
        await sending.send_message(session, fhir, user, conversation_id, data_in, None)
    return RedirectResponse(f"/conversations/{conversation_id}#compose", status_code=303)


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
