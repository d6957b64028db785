"""Administration of users: accounts, permission levels, professions and competencies."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.access import service as access
from app.access.competencies import catalogue
from app.accounts.models import SystemPermission
from app.auth.dependencies import AuthContextDep
from app.auth.service import Principal
from app.dependencies import FhirDep
from app.errors import AppError, InvalidInputError
from app.ids import OPTIONAL_PATIENT_ID_PATTERN, PathId
from app.users import service as users
from app.users.schemas import UserCreate, UserUpdate
from app.web import patient_picker
from app.web.dependencies import AdminOnly, CsrfChecked, WebPrincipal
from app.web.forms import field_errors, form_values, parse
from app.web.templating import render

router = APIRouter(prefix="/admin/users", include_in_schema=False, dependencies=[AdminOnly])

LEVELS = [(level.value, level.value) for level in SystemPermission]


def _professions() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(catalogue().professions)]


def _competencies() -> list[tuple[str, str]]:
    return sorted(catalogue().competencies.items())


@router.get("")
async def user_list(
    request: Request,
    principal: WebPrincipal,
    ctx: AuthContextDep,
    cursor: str | None = None,
    patient_id: Annotated[str, Query(pattern=OPTIONAL_PATIENT_ID_PATTERN)] = "",
    patient_q: Annotated[str, Query(max_length=100)] = "",
) -> HTMLResponse:
    """The users, and a form for a new one; a patient's own login is linked to a patient
    found by search (`patient_q`) and chosen (`patient_id`), never by typing an id."""
    values = {"fhir_patient_id": patient_id} if patient_id else {}
    return await _users_page(request, ctx, principal, cursor, values, {}, patient_q=patient_q)


async def _users_page(
    request: Request,
    ctx: AuthContextDep,
    principal: Principal,
    cursor: str | None,
    values: dict[str, Any],
    errors: dict[str, str],
    status: int = 200,
    *,
    patient_q: str = "",
) -> HTMLResponse:
    page = await users.list_users(ctx, principal, cursor=cursor, limit=100)
    actor = access.actor_of(principal.user)
    asked_for = str(values.get("fhir_patient_id") or "")
    linked = await patient_picker.chosen(ctx.session, actor, asked_for)
    if asked_for and linked is None:
        errors.setdefault("fhir_patient_id", "That patient cannot be chosen: find them again.")
    return render(
        request,
        "admin/users.html",
        status_code=status,
        title="Users",
        users=page.items,
        next_cursor=page.next_cursor,
        levels=LEVELS,
        professions=_professions(),
        linked_patient=linked,
        q=patient_q,
        found=await patient_picker.find(ctx.session, actor, patient_q),
        values=values,
        errors=errors,
    )


@router.post("", dependencies=[CsrfChecked])
async def create_user(
    request: Request, principal: WebPrincipal, ctx: AuthContextDep, fhir: FhirDep
) -> Response:
    values = await form_values(request)
    try:
        created = await users.create_user(ctx, fhir, principal, parse(UserCreate, values))
    except AppError as error:
        shown = {key: value for key, value in values.items() if key != "password"}
        return await _users_page(
            request, ctx, principal, None, shown, field_errors(error), error.status
        )
    return RedirectResponse(f"/admin/users/{created.id}", status_code=303)


@router.get("/{user_id}")
async def user_page(
    request: Request, user_id: PathId, principal: WebPrincipal, ctx: AuthContextDep
) -> HTMLResponse:
    return await _user(request, ctx, principal, user_id, {})


async def _user(
    request: Request,
    ctx: AuthContextDep,
    principal: Principal,
    user_id: int,
    errors: dict[str, str],
    status: int = 200,
) -> HTMLResponse:
    person = await users.get_user(ctx, principal, user_id)
    return render(
        request,
        "admin/user.html",
        status_code=status,
        title=person.full_name,
        person=person,
        levels=LEVELS,
        professions=_professions(),
        competencies=_competencies(),
        errors=errors,
    )


@router.post("/{user_id}", dependencies=[CsrfChecked])
async def update_user(
    request: Request, user_id: PathId, principal: WebPrincipal, ctx: AuthContextDep, fhir: FhirDep
) -> Response:
    values = await form_values(request)
    # An unticked checkbox sends nothing: no boxes ticked means "none", not "unchanged".
    values.setdefault("additional_competencies", [])
    values.setdefault("removed_competencies", [])
    try:
        await users.update_user(ctx, fhir, principal, user_id, parse(UserUpdate, values))
    except AppError as error:
        return await _user(request, ctx, principal, user_id, field_errors(error), error.status)
    return RedirectResponse(f"/admin/users/{user_id}", status_code=303)


@router.post("/{user_id}/{change}", dependencies=[CsrfChecked])
async def change_user(
    user_id: PathId, change: str, principal: WebPrincipal, ctx: AuthContextDep, fhir: FhirDep
) -> Response:
    if change == "deactivate":
        await users.deactivate_user(ctx, fhir, principal, user_id)
    elif change == "reactivate":
        await users.reactivate_user(ctx, fhir, principal, user_id)
    elif change == "totp-reset":
        await users.reset_totp(ctx, principal, user_id)
    else:
        raise InvalidInputError("Unknown change.", field=("path", "change"))
    return RedirectResponse(f"/admin/users/{user_id}", status_code=303)
