"""The clinician's and the patient's pages: inbox, patients, conversations, live events."""

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sse_starlette import EventSourceResponse
from starlette.datastructures import UploadFile

from app.access.levels import at_least
from app.accounts.models import SystemPermission, User
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
from app.organisations.settings import DEFAULT_EMERGENCY_TEXT
from app.pagination import Page
from app.patients import service as patients
from app.web import patient_picker, patient_wording
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
        **await _for_patients(session, principal.user),
        title="Inbox",
        conversations=page.items,
        status=status if chosen else "",
        next_cursor=page.next_cursor,
    )


async def _for_patients(session: SessionDep, user: User) -> dict[str, Any]:
    """What a patient's pages show beside their messages: their practices' advice."""
    if user.system_permissions is not SystemPermission.PATIENT or not user.fhir_patient_id:
        return {}
    return {
        "practices": await organisations.as_patients_see_them(session, user.fhir_patient_id),
        "default_emergency_text": DEFAULT_EMERGENCY_TEXT,
    }


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
    return await _conversation_page(request, conversation_id, principal.user, session, before)


async def _conversation_page(
    request: Request,
    conversation_id: int,
    user: User,
    session: SessionDep,
    before: str | None = None,
    *,
    draft: str = "",
    send_error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    """The thread and its reply box; after a refused send, with what was typed still in
    the box and the reason beside it (in a patient's words for a patient)."""
    opened = await thread_view.open_conversation(
        session, user, conversation_id, before=before, limit=50
    )
    detail = opened.detail
    patients_see = await _for_patients(session, user)
    if patients_see and detail.cannot_write_because:
        detail = detail.model_copy(
            update={
                "cannot_write_because": patient_wording.refusal(
                    detail.cannot_write_because, patients_see["practices"]
                )
            }
        )
    return render(
        request,
        "conversation.html",
        status_code=status,
        **patients_see,
        title=detail.subject or "Conversation",
        conversation=detail,
        messages=opened.messages.items,
        older_cursor=opened.messages.next_cursor,
        attachments_on=opened.attachments_on,
        draft=draft,
        send_error=send_error,
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
    amends = form.get("amends_id")
    try:
        if isinstance(upload, UploadFile) and upload.filename:
            sent = await read_upload(
                upload, text=text[:MAX_TEXT] or None, limit=settings.attachment_max_bytes
            )
            await sending.send_attachment(
                session, fhir, user, conversation_id, sent, None, workers=workers
            )
        else:
            if not text:
                raise InvalidInputError(
                    "Write a message, or attach a file.", field=("body", "text")
                )
            data_in = parse(
                MessageCreate,
                {"text": text, "amends_id": amends if isinstance(amends, str) else ""},
            )
            await sending.send_message(session, fhir, user, conversation_id, data_in, None)
    except AppError as error:
        if error.status in (401, 404) or amends:
            raise  # not this person's conversation, or a correction (its own form): a page
        # Nothing of this send is kept; the refusal's audit row is (written apart).
        await session.rollback()
        await session.refresh(user)  # the rollback expired it; the page reads it again
        patients_see = await _for_patients(session, user)
        said = (
            patient_wording.of_error(error, patients_see["practices"])
            if patients_see
            else error.detail
        )
        return await _conversation_page(
            request,
            conversation_id,
            user,
            session,
            draft=text,
            send_error=said,
            status=error.status,
        )
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
