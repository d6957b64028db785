"""Administration of team groups: their name and members."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.dependencies import FhirDep, SessionDep
from app.errors import AppError
from app.groups import service as groups
from app.groups.schemas import GroupUpdate
from app.ids import FormId, PathId
from app.organisations import service as organisations
from app.web.dependencies import AdminOnly, CsrfChecked, WebActor
from app.web.forms import field_errors, form_values, parse
from app.web.templating import render

router = APIRouter(prefix="/admin/groups", include_in_schema=False, dependencies=[AdminOnly])


@router.get("/{group_id}")
async def group_page(
    request: Request, group_id: PathId, actor: WebActor, session: SessionDep
) -> HTMLResponse:
    return await _group(request, group_id, actor, session, {})


async def _group(
    request: Request,
    group_id: int,
    actor: WebActor,
    session: SessionDep,
    errors: dict[str, str],
    status: int = 200,
) -> HTMLResponse:
    group = await groups.read(session, actor, group_id)
    members = {member.id for member in group.members}
    staff = await organisations.staff_of(session, group.organisation_id)
    candidates = [(person.id, person.name) for person in staff if person.id not in members]
    return render(
        request,
        "admin/group.html",
        status_code=status,
        title=group.name,
        group=group,
        candidates=candidates,
        errors=errors,
    )


@router.post("/{group_id}", dependencies=[CsrfChecked])
async def update_group(
    request: Request, group_id: PathId, actor: WebActor, session: SessionDep, fhir: FhirDep
) -> Response:
    try:
        await groups.update(
            session, fhir, actor, group_id, parse(GroupUpdate, await form_values(request))
        )
    except AppError as error:
        return await _group(request, group_id, actor, session, field_errors(error), error.status)
    return RedirectResponse(f"/admin/groups/{group_id}", status_code=303)


@router.post("/{group_id}/members", dependencies=[CsrfChecked])
async def add_member(
    group_id: PathId,
    actor: WebActor,
    session: SessionDep,
    fhir: FhirDep,
    user_id: FormId = 0,
) -> Response:
    await groups.add_member(session, fhir, actor, group_id, user_id)
    return RedirectResponse(f"/admin/groups/{group_id}", status_code=303)


@router.post("/{group_id}/members/{user_id}/remove", dependencies=[CsrfChecked])
async def remove_member(
    group_id: PathId, user_id: PathId, actor: WebActor, session: SessionDep, fhir: FhirDep
) -> Response:
    await groups.remove_member(session, fhir, actor, group_id, user_id)
    return RedirectResponse(f"/admin/groups/{group_id}", status_code=303)
