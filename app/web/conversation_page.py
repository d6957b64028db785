"""The conversation page, as opened and as shown again after a refused send: what was
typed stays in its box, with the reason beside it (in a patient's words for a patient)."""

import uuid
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import SystemPermission, User
from app.messaging import thread_view, triage
from app.organisations import service as organisations
from app.organisations.settings import DEFAULT_EMERGENCY_TEXT
from app.web import patient_wording
from app.web.templating import render


@dataclass(frozen=True)
class Unsent:
    """A send that was refused: its text, why, and where it was typed."""

    text: str
    reason: str
    amends_id: int | None = None
    # Kept when the send may have happened after all (the records system did not answer),
    # so sending the same text again cannot make a second message.
    send_key: str | None = None
    urgent: bool = False  # "Send as urgent" was ticked: it stays ticked


async def for_patients(session: AsyncSession, user: User) -> dict[str, Any]:
    """What a patient's pages show beside their messages: their practices' advice."""
    if user.system_permissions is not SystemPermission.PATIENT or not user.fhir_patient_id:
        return {}
    return {
        "practices": await organisations.as_patients_see_them(session, user.fhir_patient_id),
        "default_emergency_text": DEFAULT_EMERGENCY_TEXT,
    }


async def conversation_page(
    request: Request,
    session: AsyncSession,
    user: User,
    conversation_id: int,
    *,
    before: str | None = None,
    unsent: Unsent | None = None,
    status: int = 200,
) -> HTMLResponse:
    opened = await thread_view.open_conversation(
        session, user, conversation_id, before=before, limit=50
    )
    detail = opened.detail
    patients_see = await for_patients(session, user)
    if patients_see and detail.cannot_write_because:
        said = patient_wording.refusal(detail.cannot_write_because, patients_see["practices"])
        detail = detail.model_copy(update={"cannot_write_because": said})
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
        unsent=unsent,
        send_key=unsent.send_key if unsent and unsent.send_key else uuid.uuid4().hex,
        assignable=(
            await triage.assignable(session, user, conversation_id)
            if detail.can_change_status
            else None
        ),
    )
