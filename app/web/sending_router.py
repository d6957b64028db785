"""Sending from the conversation page: a message, a correction, an image or a voice note.
A refused send shows the page again with what was typed still in its box."""

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile

from app.accounts.models import User
from app.dependencies import FhirDep, MediaWorkersDep, SessionDep, SettingsDep
from app.errors import AppError, InvalidInputError
from app.fhir.protocol import FhirGateway
from app.idempotency import keys as idempotency
from app.ids import PathId
from app.messaging import sending
from app.messaging.schemas import MAX_TEXT, MessageCreate
from app.messaging.uploads import read_upload
from app.web import patient_wording
from app.web.conversation_page import Unsent, conversation_page, for_patients
from app.web.dependencies import CsrfChecked, WebPrincipal
from app.web.forms import parse

router = APIRouter(include_in_schema=False)
_KEY_LENGTH = 32  # a page's send key: uuid4 hex


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
    text = _single(form, "text").strip()
    amends = _single(form, "amends_id")
    urgent = _single(form, "urgent") == "true"
    given_key = _single(form, "send_key")
    key = given_key if len(given_key) == _KEY_LENGTH and given_key.isalnum() else None
    user = principal.user
    try:
        upload = form.get("file")
        if isinstance(upload, UploadFile) and upload.filename:
            sent = await read_upload(
                upload, text=text[:MAX_TEXT] or None, limit=settings.attachment_max_bytes
            )
            await sending.send_attachment(
                session, fhir, user, conversation_id, sent, None, workers=workers
            )
        else:
            await _send_text(session, fhir, user, conversation_id, text, amends, key, urgent=urgent)
    except AppError as error:
        if error.status in (401, 404):
            raise  # not this person's conversation: a page that says so, and nothing more
        # Nothing of this send is kept; the refusal's audit row is (it is written apart).
        await session.rollback()
        await session.refresh(user)  # the rollback expired it; the page reads it again
        patients_see = await for_patients(session, user)
        reason = (
            patient_wording.of_error(error, patients_see["practices"])
            if patients_see
            else error.detail
        )
        unsent = Unsent(
            text=text,
            reason=reason,
            amends_id=int(amends) if amends.isdigit() and len(amends) < 19 else None,
            send_key=key if error.status == 503 else None,
            urgent=urgent,
        )
        return await conversation_page(
            request, session, user, conversation_id, unsent=unsent, status=error.status
        )
    return RedirectResponse(f"/conversations/{conversation_id}#compose", status_code=303)


async def _send_text(
    session: SessionDep,
    fhir: FhirGateway,
    user: User,
    conversation_id: int,
    text: str,
    amends: str,
    key: str | None,
    *,
    urgent: bool = False,
) -> None:
    """A message or a correction, under the page's send key: sent again after the records
    system did not answer, the same text finds the message it may have made."""
    if not text:
        raise InvalidInputError("Write a message, or attach a file.", field=("body", "text"))
    fields = {"text": text, "amends_id": amends} | ({"priority": "urgent"} if urgent else {})
    data = parse(MessageCreate, fields)
    keyed = idempotency.keyed(
        key,
        user_id=user.id,
        method="POST",
        path=f"/conversations/{conversation_id}/messages",
        body=data,
    )
    await sending.send_message(session, fhir, user, conversation_id, data, keyed)


def _single(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""
