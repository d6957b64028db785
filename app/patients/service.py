"""Patients: a FHIR Patient (the record of the person) and Parley's metadata beside it."""

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.access import service as access
from app.access.actions import Action
from app.access.policy import Actor
from app.accounts import repository as users_repository
from app.audit import log as audit
from app.audit.log import AuditEntry
from app.db import utc_now
from app.directory import repository as directory
from app.directory.patients import ExternalAccessGrant, PatientMetadata
from app.errors import ConflictError, InvalidInputError, NotFoundError
from app.fhir.protocol import FhirGateway
from app.fhir.resources import build_patient, patient_identifier
from app.idempotency import keys as idempotency
from app.idempotency.keys import KeyedRequest
from app.organisations import service as organisations_service
from app.pagination import Page, decode_cursor, encode_cursor
from app.patients import repository
from app.patients.schemas import AccessGrantCreate, AccessGrantRead, PatientCreate, PatientRead


async def patient_exists(session: AsyncSession, patient_id: str) -> bool:
    return await directory.patient_exists(session, patient_id)


async def names_of(session: AsyncSession, patient_ids: list[str]) -> dict[str, str]:
    """Display names by patient id, for lists whose rows were authorised already."""
    return await repository.names(session, patient_ids)


async def is_active(session: AsyncSession, patient_id: str) -> bool:
    patient = await repository.get(session, patient_id)
    return patient is not None and patient.is_active


async def create_patient(
    session: AsyncSession,
    fhir: FhirGateway,
    actor: Actor,
    data: PatientCreate,
    request: KeyedRequest | None = None,
) -> PatientRead:
    """FHIR first (if it fails, nothing is written here), as a conditional create on an
    identifier that a retry with the same Idempotency-Key derives again: a retry after a
    lost answer finds the Patient it made, and answers as the first time did."""
    await access.authorize(session, actor, Action.PATIENT_CREATE, data.organisation_id)
    if (earlier := await idempotency.earlier_answer(session, request)) is not None:
        return PatientRead.model_validate_json(earlier)
    patient_uuid = idempotency.uuid_for(request, "patient")
    created = (
        await fhir.create_if_none_exist(
            build_patient(
                patient_uuid=patient_uuid,
                given_name=data.given_name,
                family_name=data.family_name,
                birth_date=data.birth_date,
            ),
            identifier=patient_identifier(patient_uuid),
        )
    ).resource
    try:
        patient = await repository.add(
            session,
            PatientMetadata(
                patient_id=str(created.id),
                given_name=data.given_name,
                family_name=data.family_name,
                birth_date=data.birth_date,
            ),
        )
    except IntegrityError:  # the same keyed request, sent twice at once, finished first
        await session.rollback()
        if (earlier := await idempotency.earlier_answer(session, request)) is not None:
            return PatientRead.model_validate_json(earlier)
        raise ConflictError("This patient is being registered by another request.") from None
    await organisations_service.add_patient(
        session, data.organisation_id, patient.patient_id, is_primary=True
    )
    _audit(session, actor, "patients.create", patient.patient_id)
    answer = _read(patient, [data.organisation_id])
    idempotency.remember(session, request, 201, answer.model_dump_json())
    return answer


async def list_patients(
    session: AsyncSession, actor: Actor, *, cursor: str | None, limit: int
) -> Page[PatientRead]:
    """What the actor may see; deactivated patients only for admins, who manage them."""
    after = decode_cursor(cursor, str, str, str) if cursor else None
    rows = await repository.list_page(
        session,
        visible=access.visible_patients(actor, PatientMetadata.patient_id),
        include_inactive=actor.is_admin,
        after=after,
        limit=limit + 1,
    )
    page = rows[:limit]
    organisations = await repository.organisation_ids(session, [row.patient_id for row in page])
    await audit.record_seen(
        session,
        action="patients.list",
        actor_id=actor.user_id,
        seen={row.patient_id: [] for row in page},
    )
    last = page[-1] if len(rows) > limit else None
    return Page(
        items=[_read(row, organisations[row.patient_id]) for row in page],
        next_cursor=encode_cursor(last.family_name, last.given_name, last.patient_id)
        if last
        else None,
    )


async def read_patient(session: AsyncSession, actor: Actor, patient_id: str) -> PatientRead:
    await access.authorize(session, actor, Action.PATIENT_READ, patient_id)
    _audit(session, actor, "patients.read", patient_id)
    return await _patient_read(session, patient_id)


async def _patient_read(session: AsyncSession, patient_id: str) -> PatientRead:
    patient = await _load(session, patient_id)
    organisations = await repository.organisation_ids(session, [patient_id])
    return _read(patient, organisations[patient_id])


async def set_active(
    session: AsyncSession, actor: Actor, patient_id: str, *, active: bool
) -> PatientRead:
    await access.authorize(session, actor, Action.PATIENT_MANAGE, patient_id)
    patient = await _load(session, patient_id)
    patient.is_active = active
    patient.updated_at = utc_now()
    await session.flush()
    _audit(session, actor, "patients.activate" if active else "patients.deactivate", patient_id)
    return await _patient_read(session, patient_id)


async def grant_access(
    session: AsyncSession, actor: Actor, patient_id: str, data: AccessGrantCreate
) -> AccessGrantRead:
    """Access for a staff member outside the patient's organisations, until revoked or
    `expires_at`. Whoever is not such a staff member gets one and the same answer, so the
    call tells a patient nothing about other accounts."""
    await access.authorize(
        session, actor, Action.PATIENT_GRANT_ACCESS, patient_id, about_user=data.user_id
    )
    grantee = await users_repository.get_user(session, data.user_id)
    if grantee is None or not access.may_hold_grant(grantee):
        raise InvalidInputError("No such staff member.", field=("body", "user_id"))
    now = utc_now()
    if data.expires_at is not None and data.expires_at <= now:
        raise InvalidInputError("expires_at must be in the future.", field=("body", "expires_at"))
    existing = await repository.unrevoked_grant(session, patient_id, data.user_id)
    if existing is not None and not _expired(existing, now):
        raise ConflictError("That user already has access to this patient.")
    if existing is not None:
        existing.revoked_at = existing.expires_at  # it ended then; make room for the new one
        await session.flush()
    grant = await repository.add_grant(
        session,
        ExternalAccessGrant(
            patient_id=patient_id,
            user_id=data.user_id,
            access_level=data.access_level,
            granted_by_id=actor.user_id,
            granted_at=now,
            expires_at=data.expires_at,
        ),
    )
    _audit(session, actor, "patients.grant_access", patient_id, target_user_id=data.user_id)
    return AccessGrantRead.model_validate(grant)


def _expired(grant: ExternalAccessGrant, now: datetime) -> bool:
    return grant.expires_at is not None and grant.expires_at <= now


async def revoke_access(session: AsyncSession, actor: Actor, patient_id: str, user_id: int) -> None:
    """Ends a grant at once; the patient revokes any grant on their own record."""
    await access.authorize(session, actor, Action.PATIENT_REVOKE_ACCESS, patient_id)
    grant = await repository.unrevoked_grant(session, patient_id, user_id)
    if grant is None:
        raise NotFoundError("That user has no access grant for this patient.")
    grant.revoked_at = utc_now()
    grant.revoked_by_id = actor.user_id
    await session.flush()
    _audit(session, actor, "patients.revoke_access", patient_id, target_user_id=user_id)


async def _load(session: AsyncSession, patient_id: str) -> PatientMetadata:
    patient = await repository.get(session, patient_id)
    if patient is None:
        raise NotFoundError("No such patient.")
    return patient


def _read(patient: PatientMetadata, organisation_ids: list[int]) -> PatientRead:
    return PatientRead(
        id=patient.patient_id,
        given_name=patient.given_name,
        family_name=patient.family_name,
        birth_date=patient.birth_date,
        is_active=patient.is_active,
        organisation_ids=organisation_ids,
    )


def _audit(
    session: AsyncSession,
    actor: Actor,
    action: str,
    patient_id: str,
    *,
    target_user_id: int | None = None,
) -> None:
    audit.record(
        session,
        AuditEntry(
            action=action,
            actor_id=actor.user_id,
            patient_id=patient_id,
            target_user_id=target_user_id,
        ),
    )
