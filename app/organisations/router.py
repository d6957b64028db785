from fastapi import APIRouter, status

from app.auth.dependencies import ActorDep
from app.dependencies import FhirDep, SessionDep
from app.directory.organisations import FeatureKey
from app.ids import PathId, PatientPathId
from app.organisations import service
from app.organisations.schemas import (
    FeatureRead,
    MembershipUpdate,
    OrganisationCreate,
    OrganisationRead,
    OrganisationUpdate,
    PatientMembershipRead,
    StaffMembershipRead,
)
from app.pagination import CursorQuery, LimitQuery, Page

router = APIRouter(prefix="/api/v1/organisations", tags=["organisations"])


@router.post("", status_code=status.HTTP_201_CREATED)
async def create(
    body: OrganisationCreate, actor: ActorDep, session: SessionDep, fhir: FhirDep
) -> OrganisationRead:
    """Create an organisation (admin)."""
    return await service.create(session, fhir, actor, body)


@router.get("")
async def list_organisations(
    actor: ActorDep, session: SessionDep, cursor: CursorQuery = None, limit: LimitQuery = 50
) -> Page[OrganisationRead]:
    """Admins: every organisation; everyone else: the ones they belong to."""
    return await service.list_visible(session, actor, cursor=cursor, limit=limit)


@router.get("/{organisation_id}")
async def read(organisation_id: PathId, actor: ActorDep, session: SessionDep) -> OrganisationRead:
    """One organisation (admin, or a member)."""
    return await service.read(session, actor, organisation_id)


@router.patch("/{organisation_id}")
async def update(
    organisation_id: PathId,
    body: OrganisationUpdate,
    actor: ActorDep,
    session: SessionDep,
    fhir: FhirDep,
) -> OrganisationRead:
    """Change name, type or location (admin)."""
    return await service.update(session, fhir, actor, organisation_id, body)


@router.delete("/{organisation_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete(
    organisation_id: PathId, actor: ActorDep, session: SessionDep, fhir: FhirDep
) -> None:
    """Delete an organisation that no longer has patients or conversations (admin)."""
    await service.delete(session, fhir, actor, organisation_id)


@router.put("/{organisation_id}/staff/{user_id}")
async def put_staff(
    organisation_id: PathId,
    user_id: PathId,
    body: MembershipUpdate,
    actor: ActorDep,
    session: SessionDep,
    fhir: FhirDep,
) -> StaffMembershipRead:
    """Make a user staff of the organisation, or change whether it is their primary one."""
    return await service.put_staff(session, fhir, actor, organisation_id, user_id, body)


@router.delete("/{organisation_id}/staff/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_staff(
    organisation_id: PathId,
    user_id: PathId,
    actor: ActorDep,
    session: SessionDep,
    fhir: FhirDep,
) -> None:
    """Remove a user from the organisation's staff."""
    await service.remove_staff(session, fhir, actor, organisation_id, user_id)


@router.put("/{organisation_id}/patients/{patient_id}")
async def put_patient(
    organisation_id: PathId,
    patient_id: PatientPathId,
    body: MembershipUpdate,
    actor: ActorDep,
    session: SessionDep,
) -> PatientMembershipRead:
    """Make a patient a member of the organisation, or change whether it is their primary one."""
    return await service.put_patient(session, actor, organisation_id, patient_id, body)


@router.delete("/{organisation_id}/patients/{patient_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_patient(
    organisation_id: PathId,
    patient_id: PatientPathId,
    actor: ActorDep,
    session: SessionDep,
) -> None:
    """Remove a patient from the organisation."""
    await service.remove_patient(session, actor, organisation_id, patient_id)


@router.get("/{organisation_id}/features")
async def list_features(
    organisation_id: PathId, actor: ActorDep, session: SessionDep
) -> list[FeatureRead]:
    """The features switched on, with who switched each on and when."""
    return await service.list_features(session, actor, organisation_id)


@router.put("/{organisation_id}/features/{key}")
async def enable_feature(
    organisation_id: PathId,
    key: FeatureKey,
    actor: ActorDep,
    session: SessionDep,
) -> FeatureRead:
    """Switch a feature on."""
    return await service.enable_feature(session, actor, organisation_id, key)


@router.delete("/{organisation_id}/features/{key}", status_code=status.HTTP_204_NO_CONTENT)
async def disable_feature(
    organisation_id: PathId,
    key: FeatureKey,
    actor: ActorDep,
    session: SessionDep,
) -> None:
    """Switch a feature off."""
    await service.disable_feature(session, actor, organisation_id, key)
