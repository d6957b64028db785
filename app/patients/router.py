from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from app.auth.dependencies import ActorDep
from app.dependencies import FhirDep, SessionDep
from app.idempotency import keys as idempotency
from app.idempotency.header import IdempotencyKey
from app.ids import PathId, PatientPathId
from app.pagination import CursorQuery, LimitQuery, Page
from app.patients import service
from app.patients.schemas import AccessGrantCreate, AccessGrantRead, PatientCreate, PatientRead

router = APIRouter(prefix="/api/v1/patients", tags=["patients"])

PatientId = PatientPathId


@router.post("", status_code=status.HTTP_201_CREATED)
async def create(
    body: PatientCreate,
    request: Request,
    actor: ActorDep,
    session: SessionDep,
    fhir: FhirDep,
    idempotency_key: IdempotencyKey = None,
) -> PatientRead:
    """Register a patient in an organisation: a FHIR Patient, then Parley's record of it."""
    keyed = idempotency.keyed(
        idempotency_key, user_id=actor.user_id, method="POST", path=request.url.path, body=body
    )
    return await service.create_patient(session, fhir, actor, body, keyed)


@router.get("")
async def list_patients(
    actor: ActorDep,
    session: SessionDep,
    q: Annotated[
        str | None,
        Query(
            max_length=100,
            description="Name words (starts of words, any order, accents and case ignored), "
            "an NHS number (spaces allowed) or a birth date (YYYY-MM-DD); at least 2 characters.",
        ),
    ] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[PatientRead]:
    """The patients the caller may see, by family name; those matching `q` when given."""
    return await service.list_patients(session, actor, query=q, cursor=cursor, limit=limit)


@router.get("/duplicates")
async def possible_duplicates(
    actor: ActorDep,
    session: SessionDep,
    given_name: Annotated[str, Query(min_length=1, max_length=100)],
    family_name: Annotated[str, Query(min_length=1, max_length=100)],
    birth_date: Annotated[date, Query()],
) -> list[PatientRead]:
    """Patients the caller may see with the same name and birth date: ask before
    registering, to warn of registering the same person twice."""
    return await service.possible_duplicates(
        session, actor, given_name=given_name, family_name=family_name, birth_date=birth_date
    )


@router.get("/{patient_id}")
async def read(patient_id: PatientId, actor: ActorDep, session: SessionDep) -> PatientRead:
    """One patient; 404 when the caller may not see them."""
    return await service.read_patient(session, actor, patient_id)


@router.post("/{patient_id}/deactivate")
async def deactivate(patient_id: PatientId, actor: ActorDep, session: SessionDep) -> PatientRead:
    """Hide a patient from clinical lists; no new conversations (admin)."""
    return await service.set_active(session, actor, patient_id, active=False)


@router.post("/{patient_id}/activate")
async def activate(patient_id: PatientId, actor: ActorDep, session: SessionDep) -> PatientRead:
    """Undo a deactivation (admin)."""
    return await service.set_active(session, actor, patient_id, active=True)


@router.post("/{patient_id}/access-grants", status_code=status.HTTP_201_CREATED)
async def grant_access(
    patient_id: PatientId, body: AccessGrantCreate, actor: ActorDep, session: SessionDep
) -> AccessGrantRead:
    """Give a staff member outside the patient's organisations access, at `read` or `message`
    level, optionally until `expires_at` (the patient themself, or an admin)."""
    return await service.grant_access(session, actor, patient_id, body)


@router.delete("/{patient_id}/access-grants/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_access(
    patient_id: PatientId, user_id: PathId, actor: ActorDep, session: SessionDep
) -> None:
    """Revoke a grant; it stops working on the next request (the patient, or an admin)."""
    await service.revoke_access(session, actor, patient_id, user_id)
