"""Triage from the conversation page: urgent or routine, assigned to me or to nobody,
done or open again. The same services as the API decide and record each change."""

from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse, Response

from app.dependencies import FhirDep, SessionDep
from app.errors import InvalidInputError
from app.ids import PathId
from app.messaging import conversations, triage
from app.messaging.schemas import AssigneeUpdate, DoneUpdate, StatusUpdate
from app.web.dependencies import CsrfChecked, WebPrincipal
from app.web.forms import parse

router = APIRouter(include_in_schema=False, dependencies=[CsrfChecked])


def _back(conversation_id: int) -> Response:
    return RedirectResponse(f"/conversations/{conversation_id}#triage", status_code=303)


@router.post("/conversations/{conversation_id}/priority")
async def priority(
    conversation_id: PathId,
    principal: WebPrincipal,
    session: SessionDep,
    fhir: FhirDep,
    value: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    data = parse(StatusUpdate, {"priority": value})
    await conversations.change_status(session, fhir, principal.user, conversation_id, data)
    return _back(conversation_id)


@router.post("/conversations/{conversation_id}/assignee")
async def assign_to_me(
    conversation_id: PathId, principal: WebPrincipal, session: SessionDep, fhir: FhirDep
) -> Response:
    data = AssigneeUpdate(user_id=principal.user.id)
    await triage.assign(session, fhir, principal.user, conversation_id, data)
    return _back(conversation_id)


@router.post("/conversations/{conversation_id}/assign")
async def assign_to(
    conversation_id: PathId,
    principal: WebPrincipal,
    session: SessionDep,
    fhir: FhirDep,
    assignee: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """To a person (`user:<id>`) or a team group (`group:<id>`) picked from the page."""
    kind, _, number = assignee.partition(":")
    if (
        kind not in ("user", "group")
        or not (number.isascii() and number.isdigit())
        or len(number) > 12
    ):
        raise InvalidInputError(
            "Choose a person or a team to assign to.", field=("body", "assignee")
        )
    data = parse(AssigneeUpdate, {f"{kind}_id": int(number)})
    await triage.assign(session, fhir, principal.user, conversation_id, data)
    return _back(conversation_id)


@router.post("/conversations/{conversation_id}/unassign")
async def unassign(
    conversation_id: PathId, principal: WebPrincipal, session: SessionDep, fhir: FhirDep
) -> Response:
    await triage.unassign(session, fhir, principal.user, conversation_id)
    return _back(conversation_id)


@router.post("/conversations/{conversation_id}/done")
async def done(
    conversation_id: PathId,
    principal: WebPrincipal,
    session: SessionDep,
    fhir: FhirDep,
    note: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    data = parse(DoneUpdate, {"note": note})
    await triage.mark_done(session, fhir, principal.user, conversation_id, data, done=True)
    return _back(conversation_id)


@router.post("/conversations/{conversation_id}/undone")
async def undone(
    conversation_id: PathId, principal: WebPrincipal, session: SessionDep, fhir: FhirDep
) -> Response:
    await triage.mark_done(session, fhir, principal.user, conversation_id, DoneUpdate(), done=False)
    return _back(conversation_id)
