"""Administration of organisations: details, feature switches, staff, patients, team groups."""

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.dependencies import FhirDep, SessionDep
from app.directory.organisations import FeatureKey
from app.errors import AppError
from app.groups import service as groups
from app.groups.schemas import GroupCreate
from app.ids import OPTIONAL_PATIENT_ID_PATTERN, FormId, PathId, PatientPathId
from app.organisations import service as organisations
from app.organisations.schemas import (
    MembershipUpdate,
    OrganisationCreate,
    OrganisationSettingsUpdate,
    OrganisationUpdate,
    timezones,
)
from app.organisations.settings import DEFAULT_EMERGENCY_TEXT
from app.patients import service as patients
from app.patients.schemas import PatientCreate, PatientRead
from app.web import patient_picker
from app.web.dependencies import AdminOnly, CsrfChecked, WebActor
from app.web.forms import field_errors, form_values, parse
from app.web.templating import render

router = APIRouter(prefix="/admin/organisations", include_in_schema=False, dependencies=[AdminOnly])

FEATURE_LABELS = [
    (FeatureKey.MESSAGING.value, "Messaging about this organisation's patients"),
    (FeatureKey.PATIENT_MESSAGING.value, "Patients may write"),
    (FeatureKey.ATTACHMENTS.value, "Images and voice notes"),
]


SETTINGS_FIELDS = list(OrganisationSettingsUpdate.model_fields)
_CARE_TEAM = {"escalate_unanswered_after_hours"}  # the page's second settings form


def _back_to(organisation_id: int, section: str = "") -> RedirectResponse:
    """Post/redirect/get: back to the organisation's page, at the section just changed."""
    anchor = f"#{section}" if section else ""
    return RedirectResponse(f"/admin/organisations/{organisation_id}{anchor}", status_code=303)


@router.get("")
async def organisation_list(request: Request, actor: WebActor, session: SessionDep) -> HTMLResponse:
    return await _organisations_page(request, actor, session, {}, {})


async def _organisations_page(
    request: Request,
    actor: WebActor,
    session: SessionDep,
    values: dict[str, Any],
    errors: dict[str, str],
    status: int = 200,
) -> HTMLResponse:
    page = await organisations.list_visible(session, actor, cursor=None, limit=200)
    return render(
        request,
        "admin/organisations.html",
        status_code=status,
        title="Organisations",
        organisations=page.items,
        values=values,
        errors=errors,
    )


@router.post("", dependencies=[CsrfChecked])
async def create_organisation(
    request: Request, actor: WebActor, session: SessionDep, fhir: FhirDep
) -> Response:
    values = await form_values(request)
    try:
        created = await organisations.create(
            session, fhir, actor, parse(OrganisationCreate, values)
        )
    except AppError as error:
        return await _organisations_page(
            request, actor, session, values, field_errors(error), error.status
        )
    return _back_to(created.id)


@router.get("/{organisation_id}")
async def organisation_page(
    request: Request,
    organisation_id: PathId,
    actor: WebActor,
    session: SessionDep,
    patient_id: Annotated[str, Query(pattern=OPTIONAL_PATIENT_ID_PATTERN)] = "",
    patient_q: Annotated[str, Query(max_length=100)] = "",
) -> HTMLResponse:
    """The organisation; a patient to add is found by search (`patient_q`) and chosen
    (`patient_id`) before the page offers to add them."""
    return await _organisation(
        request, organisation_id, actor, session, {}, {}, patient_q=patient_q, adding=patient_id
    )


async def _organisation(
    request: Request,
    organisation_id: int,
    actor: WebActor,
    session: SessionDep,
    values: dict[str, Any],
    errors: dict[str, str],
    status: int = 200,
    *,
    patient_q: str = "",
    adding: str = "",
    duplicates: Sequence[PatientRead] = (),
) -> HTMLResponse:
    overview = await organisations.overview(session, actor, organisation_id)
    member_ids = {member.id for member in overview.patients}
    chosen = await patient_picker.chosen(session, actor, adding)
    if adding and (chosen is None or chosen.id in member_ids):
        errors = errors | {"patient_id": "That patient cannot be added: find them again."}
        chosen = None
    return render(
        request,
        "admin/organisation.html",
        status_code=status,
        title=overview.organisation.name,
        organisation=overview.organisation,
        features={feature.key.value: feature for feature in overview.features},
        feature_labels=FEATURE_LABELS,
        staff=overview.staff,
        staff_candidates=[(person.id, person.name) for person in overview.staff_candidates],
        patients=overview.patients,
        q=patient_q,
        found=await patient_picker.find(session, actor, patient_q, leave_out=member_ids),
        adding=chosen,
        duplicates=duplicates,
        timezones=sorted(timezones()),
        default_emergency_text=DEFAULT_EMERGENCY_TEXT,
        groups=await groups.of_organisation(session, actor, organisation_id),
        values=values,
        errors=errors,
    )


@router.post("/{organisation_id}", dependencies=[CsrfChecked])
async def update_organisation(
    request: Request, organisation_id: PathId, actor: WebActor, session: SessionDep, fhir: FhirDep
) -> Response:
    values = await form_values(request)
    try:
        await organisations.update(
            session, fhir, actor, organisation_id, parse(OrganisationUpdate, values)
        )
    except AppError as error:
        return await _organisation(
            request, organisation_id, actor, session, values, field_errors(error), error.status
        )
    return _back_to(organisation_id)


@router.post("/{organisation_id}/settings", dependencies=[CsrfChecked])
async def update_settings(
    request: Request, organisation_id: PathId, actor: WebActor, session: SessionDep, fhir: FhirDep
) -> Response:
    """What patients see, or how the care team works: the settings of the form posted (the
    page has two), each left empty going back to its default."""
    values = await form_values(request)
    # The form's fields are named settings_<name>: the page has a patient's phone field too.
    given = {
        name: values.get(f"settings_{name}") or None
        for name in SETTINGS_FIELDS
        if f"settings_{name}" in values
    }
    try:
        settings = parse(OrganisationSettingsUpdate, given)
        await organisations.update(
            session, fhir, actor, organisation_id, OrganisationUpdate(settings=settings)
        )
    except AppError as error:
        errors = {f"settings_{name}": text for name, text in field_errors(error).items()}
        return await _organisation(
            request, organisation_id, actor, session, values, errors, error.status
        )
    return _back_to(organisation_id, "care-team" if set(given) <= _CARE_TEAM else "settings")


@router.post("/{organisation_id}/features/{key}", dependencies=[CsrfChecked])
async def switch_feature(
    organisation_id: PathId,
    key: FeatureKey,
    actor: WebActor,
    session: SessionDep,
    on: Annotated[str, Form(max_length=5)] = "false",
) -> Response:
    if on == "true":
        await organisations.enable_feature(session, actor, organisation_id, key)
    else:
        await organisations.disable_feature(session, actor, organisation_id, key)
    return _back_to(organisation_id, f"feature-{key.value}")


@router.post("/{organisation_id}/staff", dependencies=[CsrfChecked])
async def add_staff(
    organisation_id: PathId,
    actor: WebActor,
    session: SessionDep,
    fhir: FhirDep,
    user_id: FormId = 0,
) -> Response:
    await organisations.put_staff(
        session, fhir, actor, organisation_id, user_id, MembershipUpdate()
    )
    return _back_to(organisation_id, "staff")


@router.post("/{organisation_id}/staff/{user_id}/remove", dependencies=[CsrfChecked])
async def remove_staff(
    organisation_id: PathId, user_id: PathId, actor: WebActor, session: SessionDep, fhir: FhirDep
) -> Response:
    await organisations.remove_staff(session, fhir, actor, organisation_id, user_id)
    return _back_to(organisation_id, "staff")


@router.post("/{organisation_id}/patients/new", dependencies=[CsrfChecked])
async def register_patient(
    request: Request,
    organisation_id: PathId,
    actor: WebActor,
    session: SessionDep,
    fhir: FhirDep,
) -> Response:
    """A new patient: their FHIR Patient first, then Parley's record, as through the API."""
    values = await form_values(request)
    different_person = values.pop("different_person", "") == "true"
    try:
        data = parse(PatientCreate, values | {"organisation_id": organisation_id})
        if not different_person and (alike := await _alike(session, actor, data)):
            # The same name and birth date is most often the same person: the admin looks
            # at who is registered already before a second record is made.
            return await _organisation(
                request, organisation_id, actor, session, values, {}, 409, duplicates=alike
            )
        # FHIR first, before any look that writes its audit rows (the embedded store on
        # SQLite waits for no pending write); then the override is recorded with whom.
        created = await patients.create_patient(session, fhir, actor, data)
        if different_person:
            alike = [p for p in await _alike(session, actor, data) if p.id != created.id]
            patients.note_registered_beside(session, actor, created.id, [p.id for p in alike])
    except AppError as error:
        errors = field_errors(error)
        if "_form" in errors:  # said beside the form that was sent, not the first on the page
            errors["register__form"] = errors.pop("_form")
        return await _organisation(
            request, organisation_id, actor, session, values, errors, error.status
        )
    return _back_to(organisation_id, "patients")


async def _alike(session: SessionDep, actor: WebActor, data: PatientCreate) -> list[PatientRead]:
    if data.birth_date is None:
        return []
    return await patients.possible_duplicates(
        session,
        actor,
        given_name=data.given_name,
        family_name=data.family_name,
        birth_date=data.birth_date,
    )


@router.post("/{organisation_id}/patients", dependencies=[CsrfChecked])
async def put_patient(
    organisation_id: PathId,
    actor: WebActor,
    session: SessionDep,
    patient_id: Annotated[str, Form(pattern=OPTIONAL_PATIENT_ID_PATTERN)] = "",
    is_primary: Annotated[bool, Form()] = False,
) -> Response:
    """Add an existing patient to the organisation, or make it their primary one."""
    membership = MembershipUpdate(is_primary=is_primary)
    await organisations.put_patient(session, actor, organisation_id, patient_id, membership)
    return _back_to(organisation_id, "patients")


@router.post(
    "/{organisation_id}/patients/{patient_id}/remove",
    dependencies=[CsrfChecked],
)
async def remove_patient(
    organisation_id: PathId, patient_id: PatientPathId, actor: WebActor, session: SessionDep
) -> Response:
    await organisations.remove_patient(session, actor, organisation_id, patient_id)
    return _back_to(organisation_id, "patients")


@router.post("/{organisation_id}/patients/{patient_id}/active", dependencies=[CsrfChecked])
async def set_patient_active(
    organisation_id: PathId,
    patient_id: PatientPathId,
    actor: WebActor,
    session: SessionDep,
    active: Annotated[bool, Form()] = False,
) -> Response:
    """Deactivating hides the patient from clinical lists; the page it is done from stays."""
    await patients.set_active(session, actor, patient_id, active=active)
    return _back_to(organisation_id, "patients")


@router.post("/{organisation_id}/groups", dependencies=[CsrfChecked])
async def create_group(
    request: Request,
    organisation_id: PathId,
    actor: WebActor,
    session: SessionDep,
    fhir: FhirDep,
    group_name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    try:
        data = parse(GroupCreate, {"name": group_name, "organisation_id": organisation_id})
        group = await groups.create(session, fhir, actor, data)
    except AppError as error:
        errors = {"group_name": field_errors(error).get("name") or error.detail}
        return await _organisation(
            request, organisation_id, actor, session, {}, errors, error.status
        )
    return RedirectResponse(f"/admin/groups/{group.id}", status_code=303)
