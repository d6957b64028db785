from typing import Annotated

from fastapi import APIRouter, Depends, Path, status

from app.access.actions import Action
from app.access.dependencies import ActorDep, authorized
from app.auth.service import Principal
from app.dependencies import FhirDep, SessionDep
from app.pagination import CursorQuery, LimitQuery, Page
from app.patients import service
from app.patients.schemas import AccessGrantCreate, AccessGrantRead, PatientCreate, PatientRead

router = APIRouter(prefix="/api/v1/patients", tags=["patients"])

PatientId = Annotated[str, Path(max_length=64, description="The FHIR Patient id.")]
CanRead = Annotated[Principal, Depends(authorized(Action.PATIENT_READ))]
CanManage = Annotated[Principal, Depends(authorized(Action.PATIENT_MANAGE))]
CanGrant = Annotated[Principal, Depends(authorized(Action.PATIENT_GRANT_ACCESS))]
CanRevoke = Annotated[Principal, Depends(authorized(Action.PATIENT_REVOKE_ACCESS))]


@router.post("", status_code=status.HTTP_201_CREATED)
async def create(
    body: PatientCreate, actor: ActorDep, session: SessionDep, fhir: FhirDep
) -> PatientRead:
    """Register a patient in an organisation: a FHIR Patient, then Parley's record of it."""
    return await service.create_patient(session, fhir, actor, body)


@router.get("")
async def list_patients(
    actor: ActorDep, session: SessionDep, cursor: CursorQuery = None, limit: LimitQuery = 50
) -> Page[PatientRead]:
    """The patients the caller may see, by name."""
    return await service.list_patients(session, actor, cursor=cursor, limit=limit)


@router.get("/{patient_id}")
async def read(patient_id: PatientId, _: CanRead, session: SessionDep) -> PatientRead:
    """One patient; 404 when the caller may not see them."""
    return await service.read_patient(session, patient_id)


@router.post("/{patient_id}/deactivate")
async def deactivate(
    patient_id: PatientId, _: CanManage, actor: ActorDep, session: SessionDep
) -> PatientRead:
    """Hide a patient from clinical lists; no new conversations (admin)."""
    return await service.set_active(session, actor, patient_id, active=False)


@router.post("/{patient_id}/activate")
async def activate(
    patient_id: PatientId, _: CanManage, actor: ActorDep, session: SessionDep
) -> PatientRead:
    """Undo a deactivation (admin)."""
    return await service.set_active(session, actor, patient_id, active=True)


@router.post("/{patient_id}/access-grants", status_code=status.HTTP_201_CREATED)
async def grant_access(
    patient_id: PatientId,
    body: AccessGrantCreate,
    _: CanGrant,
    actor: ActorDep,
    session: SessionDep,
) -> AccessGrantRead:
    """Give a user outside the patient's organisations access (the patient themself, or admin)."""
    return await service.grant_access(session, actor, patient_id, body)


@router.delete("/{patient_id}/access-grants/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_access(
    patient_id: PatientId, user_id: int, _: CanRevoke, actor: ActorDep, session: SessionDep
) -> None:
    """Revoke a grant; it stops working on the next request (admin)."""
    await service.revoke_access(session, actor, patient_id, user_id)
