"""Patients: a FHIR Patient (the record of the person) and Parley's metadata beside it."""

import logging
import re
from datetime import date, datetime
from typing import cast

from fhir.resources.R4B.patient import Patient
from sqlalchemy import ColumnElement
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
from app.fhir.errors import FhirError
from app.fhir.protocol import FhirGateway
from app.fhir.resources import PatientDetails, build_patient, patient_identifier
from app.idempotency import keys as idempotency
from app.idempotency.keys import KeyedRequest
from app.organisations import service as organisations_service
from app.pagination import Page, decode_cursor, encode_cursor
from app.patients import nhs_number, repository
from app.patients.errors import DuplicatePatientError, InvalidNhsNumberError
from app.patients.name_words import query_words, words_of
from app.patients.nhs_number import NHS_NUMBER_SYSTEM
from app.patients.schemas import (
    AccessGrantCreate,
    AccessGrantRead,
    Identifier,
    PatientCreate,
    PatientRead,
    Sex,
)

MIN_QUERY_LENGTH = 2
MAX_QUERY_WORDS = 5
DUPLICATES_SHOWN = 20
BIRTH_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
logger = logging.getLogger(__name__)


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
    nhs_number, identifiers = _identity(data)
    words = words_of(data.given_name, data.family_name)
    await _refuse_a_second_record(session, actor, nhs_number, identifiers)
    patient_uuid = idempotency.uuid_for(request, "patient")
    details = PatientDetails(
        given_name=data.given_name,
        family_name=data.family_name,
        birth_date=data.birth_date,
        sex=data.sex,
        phone=data.phone,
        identifiers=(((NHS_NUMBER_SYSTEM, nhs_number),) if nhs_number is not None else ())
        + tuple(identifiers),
    )
    made = await fhir.create_if_none_exist(
        build_patient(details, patient_uuid=patient_uuid),
        identifier=patient_identifier(patient_uuid),
    )
    created = made.resource
    try:
        patient = await repository.add(
            session,
            PatientMetadata(
                patient_id=str(created.id),
                given_name=data.given_name,
                family_name=data.family_name,
                birth_date=data.birth_date,
                sex=data.sex,
                nhs_number=nhs_number,
                phone=data.phone,
            ),
        )
        repository.add_identity(
            session,
            patient.patient_id,
            identifiers=identifiers,
            words=words,
        )
        await session.flush()
    except IntegrityError:  # the same keyed request, or the same person, at the same moment
        await session.rollback()
        if (earlier := await idempotency.earlier_answer(session, request)) is not None:
            return PatientRead.model_validate_json(earlier)
        # Someone else registered the same person a moment ago: the Patient this request
        # made in FHIR is a double of theirs, so it is retired before saying so. One it
        # found (the same key, racing its first try) is the first try's, and stays.
        if made.created:
            await _retire(fhir, created)
        await _refuse_a_second_record(session, actor, nhs_number, identifiers)
        raise ConflictError("This patient is being registered by another request.") from None
    await organisations_service.add_patient(
        session, data.organisation_id, patient.patient_id, is_primary=True
    )
    _audit(session, actor, "patients.create", patient.patient_id)
    answer = _read(patient, [data.organisation_id], identifiers, has_portal_login=False)
    idempotency.remember(session, request, 201, answer.model_dump_json())
    return answer


async def _retire(fhir: FhirGateway, patient: Patient) -> None:
    """Marks a Patient no one will use inactive; if FHIR fails too, the log says so (by id
    only) for someone to tidy, and the refusal the caller gets is unchanged."""
    patient.active = False
    try:
        await fhir.put(patient)
    except FhirError as error:
        logger.warning("an unused FHIR Patient %s stays active: %s", patient.id, error.slug)


def note_registered_beside(
    session: AsyncSession, actor: Actor, patient_id: str, alike: list[str]
) -> None:
    """A patient registered although others with their name and birth date were shown:
    the audit log names those, for whoever later finds two records of one person."""
    audit.record(
        session,
        AuditEntry(
            action="patients.registered_beside_possible_duplicates",
            actor_id=actor.user_id,
            patient_id=patient_id,
            details={"possible_duplicates": alike},
        ),
    )


def _identity(data: PatientCreate) -> tuple[str | None, list[tuple[str, str]]]:
    """The NHS number (however it was given) and the other identifiers, each once."""
    nhs_numbers = [data.nhs_number] if data.nhs_number is not None else []
    others: list[tuple[str, str]] = []
    for identifier in data.identifiers:
        if nhs_number.is_nhs_number_system(identifier.system):
            nhs_numbers.append(identifier.value)
        elif (identifier.system, identifier.value) not in others:
            others.append((identifier.system, identifier.value))
    checked = {_checked_nhs_number(given) for given in nhs_numbers}
    if len(checked) > 1:
        raise InvalidNhsNumberError(
            "Two different NHS numbers were given.", field=("body", "nhs_number")
        )
    return (checked.pop() if checked else None), others


def _checked_nhs_number(given: str) -> str:
    digits = nhs_number.normalised(given)
    if digits is None:
        raise InvalidNhsNumberError(
            "An NHS number has 10 digits (spaces allowed).", field=("body", "nhs_number")
        )
    if not nhs_number.passes_check(digits):
        raise InvalidNhsNumberError(
            f"{nhs_number.shown(digits)} is not a valid NHS number: its last digit does not "
            "match the others (Modulus 11 check). Check it against the patient's records.",
            field=("body", "nhs_number"),
        )
    return digits


async def _refuse_a_second_record(
    session: AsyncSession,
    actor: Actor,
    nhs_number: str | None,
    identifiers: list[tuple[str, str]],
) -> None:
    """A second patient with an identifier someone already holds is the same person
    registered twice (or a typing error): refused before FHIR hears of it. The existing
    record is named only to a caller who may see it."""
    holder = await repository.holder_of(session, nhs_number=nhs_number, identifiers=identifiers)
    if holder is None:
        return
    visible = await access.is_allowed(session, actor, Action.PATIENT_READ, holder)
    # Whether a number is registered is itself something learnt about a patient: the
    # refusal is kept, so someone trying numbers one after another shows in the audit log.
    audit.record_refusal(
        session,
        AuditEntry(
            action="patients.create",
            actor_id=actor.user_id,
            patient_id=holder,
            outcome=audit.DENIED,
            reason="duplicate-patient",
        ),
    )
    raise DuplicatePatientError(
        "A patient with this NHS number or identifier is already registered"
        + (": open their record instead of registering them again." if visible else "."),
        existing_patient_id=holder if visible else None,
    )


async def list_patients(
    session: AsyncSession,
    actor: Actor,
    *,
    query: str | None = None,
    cursor: str | None,
    limit: int,
) -> Page[PatientRead]:
    """What the actor may see, by name, or those matching `query` (see `_matching`);
    deactivated patients only for admins, who manage them."""
    after = decode_cursor(cursor, str, str, str) if cursor else None
    rows = await repository.list_page(
        session,
        visible=access.visible_patients(actor, PatientMetadata.patient_id),
        include_inactive=actor.is_admin,
        after=after,
        limit=limit + 1,
        matching=_matching(query) if query is not None else (),
    )
    page = rows[:limit]
    last = page[-1] if len(rows) > limit else None
    return Page(
        items=await _reads(session, actor, "patients.list", page),
        next_cursor=encode_cursor(last.family_name, last.given_name, last.patient_id)
        if last
        else None,
    )


async def possible_duplicates(
    session: AsyncSession, actor: Actor, *, given_name: str, family_name: str, birth_date: date
) -> list[PatientRead]:
    """Patients the actor may see with the same name (every word of it, accents and case
    ignored) and birth date: a warning before registering the same person twice."""
    words = query_words(f"{given_name} {family_name}")[: MAX_QUERY_WORDS * 2]
    if not words:
        raise InvalidInputError("A name needs letters.", field=("query", "family_name"))
    rows = await repository.list_page(
        session,
        visible=access.visible_patients(actor, PatientMetadata.patient_id),
        # A deactivated record is still the same person: registering them again would make
        # a double that no list shows beside the first.
        include_inactive=True,
        after=None,
        limit=DUPLICATES_SHOWN,
        matching=[*repository.name_has(words), repository.born_on(birth_date)],
    )
    return await _reads(session, actor, "patients.duplicates", rows)


def _matching(query: str) -> list[ColumnElement[bool]]:
    """An NHS number (10 digits, spaces allowed), a birth date (YYYY-MM-DD), or the starts
    of words of the name in any order, accents and case ignored."""
    text = query.strip()
    if len(text) < MIN_QUERY_LENGTH:
        raise InvalidInputError(
            f"Type at least {MIN_QUERY_LENGTH} characters to search.", field=("query", "q")
        )
    if (digits := nhs_number.normalised(text)) is not None:
        return [repository.nhs_number_is(digits)]
    if BIRTH_DATE.fullmatch(text):
        try:
            return [repository.born_on(date.fromisoformat(text))]
        except ValueError:
            raise InvalidInputError(f"{text} is not a date.", field=("query", "q")) from None
    words = query_words(text)
    if not words:
        raise InvalidInputError(
            "Search by name, NHS number or birth date (YYYY-MM-DD).", field=("query", "q")
        )
    return repository.name_starts(words[:MAX_QUERY_WORDS])


async def _reads(
    session: AsyncSession, actor: Actor, action: str, rows: list[PatientMetadata]
) -> list[PatientRead]:
    """The rows as the API shows them; every patient shown is an audited look."""
    ids = [row.patient_id for row in rows]
    organisations = await repository.organisation_ids(session, ids)
    identifiers = await repository.identifiers_of(session, ids)
    logins = await repository.with_portal_login(session, ids)
    await audit.record_seen(
        session, action=action, actor_id=actor.user_id, seen={i: [] for i in ids}
    )
    return [
        _read(
            row,
            organisations[row.patient_id],
            identifiers[row.patient_id],
            has_portal_login=row.patient_id in logins,
        )
        for row in rows
    ]


async def read_patient(session: AsyncSession, actor: Actor, patient_id: str) -> PatientRead:
    await access.authorize(session, actor, Action.PATIENT_READ, patient_id)
    _audit(session, actor, "patients.read", patient_id)
    return await _patient_read(session, patient_id)


async def _patient_read(session: AsyncSession, patient_id: str) -> PatientRead:
    patient = await _load(session, patient_id)
    organisations = await repository.organisation_ids(session, [patient_id])
    identifiers = await repository.identifiers_of(session, [patient_id])
    logins = await repository.with_portal_login(session, [patient_id])
    return _read(
        patient,
        organisations[patient_id],
        identifiers[patient_id],
        has_portal_login=patient_id in logins,
    )


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


def _read(
    patient: PatientMetadata,
    organisation_ids: list[int],
    identifiers: list[tuple[str, str]],
    *,
    has_portal_login: bool,
) -> PatientRead:
    return PatientRead(
        id=patient.patient_id,
        given_name=patient.given_name,
        family_name=patient.family_name,
        birth_date=patient.birth_date,
        age=age_on(patient.birth_date, utc_now().date()) if patient.birth_date else None,
        sex=cast(Sex | None, patient.sex),
        nhs_number=patient.nhs_number,
        identifiers=[Identifier(system=system, value=value) for system, value in identifiers],
        phone=patient.phone,
        is_active=patient.is_active,
        has_portal_login=has_portal_login,
        organisation_ids=organisation_ids,
    )


def age_on(birth_date: date, day: date) -> int:
    """Whole years: a birthday not yet reached this year does not count."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


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
