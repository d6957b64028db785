"""Organisations, their staff and patients, and the features they switch on.

Each entry point authorises its caller through `app.access` first; the rules
written here are about the data: what exists, what is in use, what is primary.
"""

from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from app.access import service as access
from app.access.actions import Action
from app.access.policy import Actor
from app.accounts import repository as users_repository
from app.accounts.models import SystemPermission
from app.audit import log as audit
from app.audit.log import AuditEntry
from app.db import utc_now
from app.directory import repository as directory
from app.directory.organisations import (
    DEFAULT_ESCALATE_AFTER_HOURS,
    DEFAULT_TIMEZONE,
    FeatureKey,
    Organisation,
    OrganisationFeature,
    PatientMembership,
    StaffMembership,
)
from app.errors import ConflictError, InvalidInputError, NotFoundError
from app.fhir.protocol import FhirGateway
from app.fhir_directory import service as fhir_directory
from app.organisations import repository
from app.organisations.schemas import (
    FeatureRead,
    MembershipUpdate,
    OrganisationCreate,
    OrganisationRead,
    OrganisationSettings,
    OrganisationUpdate,
    PatientMembershipRead,
    StaffMembershipRead,
)
from app.organisations.settings import DEFAULT_EMERGENCY_TEXT, settings_of
from app.pagination import Page, decode_cursor, encode_cursor

KNOWN_FEATURES = frozenset(key.value for key in FeatureKey)


@dataclass(frozen=True)
class Membership:
    organisation_id: int
    name: str
    is_primary: bool


async def memberships_of_staff(session: AsyncSession, user_id: int) -> list[Membership]:
    return [
        Membership(organisation_id=organisation.id, name=organisation.name, is_primary=primary)
        for organisation, primary in await directory.staff_memberships_of(session, user_id)
    ]


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    is_primary: bool = False


async def colleagues_of(session: AsyncSession, user_id: int) -> list[Person]:
    return [Person(uid, name) for uid, name in await repository.colleagues(session, user_id)]


async def active_staff_of(session: AsyncSession, organisation_id: int) -> list[Person]:
    """Staff who can still sign in, for offering work to (the page's choice is checked)."""
    rows = await repository.staff_of(session, organisation_id, active_only=True)
    return [Person(uid, name, primary) for uid, name, primary in rows]


async def staff_of(session: AsyncSession, organisation_id: int) -> list[Person]:
    """Staff names, for pages whose organisation or group was authorised already."""
    return [
        Person(uid, name, primary)
        for uid, name, primary in await repository.staff_of(session, organisation_id)
    ]


@dataclass(frozen=True)
class PatientMember:
    id: str
    name: str
    birth_date: date | None
    nhs_number: str | None
    is_primary: bool
    is_active: bool


@dataclass(frozen=True)
class Overview:
    """What the page that manages an organisation shows."""

    organisation: OrganisationRead
    staff: list[Person]
    staff_candidates: list[Person]
    patients: list[PatientMember]
    features: list[FeatureRead]


async def overview(session: AsyncSession, actor: Actor, organisation_id: int) -> Overview:
    """For those who manage it: its staff, its patients (deactivated ones included), who
    could join its staff, and its features."""
    await access.authorize(session, actor, Action.ORGANISATION_UPDATE, organisation_id)
    patients = [
        PatientMember(
            patient.patient_id,
            f"{patient.family_name}, {patient.given_name}",
            patient.birth_date,
            patient.nhs_number,
            primary,
            patient.is_active,
        )
        for patient, primary in await repository.patients_of(session, organisation_id)
    ]
    await audit.record_seen(
        session,
        action="patients.list",
        actor_id=actor.user_id,
        seen={patient.id: [] for patient in patients},
    )
    return Overview(
        organisation=_read(await _load(session, organisation_id)),
        staff=await staff_of(session, organisation_id),
        staff_candidates=[
            Person(uid, label)
            for uid, label in await repository.staff_candidates(session, organisation_id)
        ],
        patients=patients,
        features=await _features(session, organisation_id),
    )


async def create(
    session: AsyncSession, fhir: FhirGateway, actor: Actor, data: OrganisationCreate
) -> OrganisationRead:
    await access.authorize(session, actor, Action.ORGANISATION_CREATE)
    organisation = Organisation(name=data.name, type=data.type, location=data.location)
    await fhir_directory.publish_organisation(fhir, organisation)  # FHIR first
    organisation = await repository.add(session, organisation)
    _audit(session, actor, "organisations.create", organisation.id)
    return _read(organisation)


async def list_visible(
    session: AsyncSession, actor: Actor, *, cursor: str | None, limit: int
) -> Page[OrganisationRead]:
    """Admins see every organisation; others the ones they belong to."""
    after_id = decode_cursor(cursor, int)[0] if cursor else None
    rows = await repository.list_page(
        session, visible=access.visible_organisations(actor), after_id=after_id, limit=limit + 1
    )
    next_cursor = encode_cursor(rows[limit - 1].id) if len(rows) > limit else None
    return Page(
        items=[_read(row) for row in rows[:limit]],
        next_cursor=next_cursor,
    )


async def read(session: AsyncSession, actor: Actor, organisation_id: int) -> OrganisationRead:
    await access.authorize(session, actor, Action.ORGANISATION_READ, organisation_id)
    return _read(await _load(session, organisation_id))


# Settings whose default is stored, not NULL: `null` in a PATCH writes the default.
_STORED_DEFAULTS = {
    "timezone": DEFAULT_TIMEZONE,
    "escalate_unanswered_after_hours": DEFAULT_ESCALATE_AFTER_HOURS,
}


async def update(
    session: AsyncSession,
    fhir: FhirGateway,
    actor: Actor,
    organisation_id: int,
    changes: OrganisationUpdate,
) -> OrganisationRead:
    await access.authorize(session, actor, Action.ORGANISATION_UPDATE, organisation_id)
    organisation = await _load(session, organisation_id)
    given = changes.model_dump(exclude_unset=True, exclude={"settings"})
    for field, value in given.items():
        if value is None and field != "location":
            raise InvalidInputError(f"{field} cannot be empty.", field=("body", field))
    # A setting given as null goes back to its default (the timezone's is stored).
    settings = changes.settings.model_dump(exclude_unset=True) if changes.settings else {}
    for name, default in _STORED_DEFAULTS.items():
        if name in settings and settings[name] is None:
            settings[name] = default
    if settings.get("emergency_text") == DEFAULT_EMERGENCY_TEXT:
        settings["emergency_text"] = None  # stays the default, should the default change
    given |= settings
    await fhir_directory.publish_organisation(fhir, organisation, changes=given)  # FHIR first
    for field, value in given.items():
        setattr(organisation, field, value)
    await session.flush()
    _audit(session, actor, "organisations.update", organisation_id)
    return _read(organisation)


async def delete(
    session: AsyncSession, fhir: FhirGateway, actor: Actor, organisation_id: int
) -> None:
    """Gone from Parley; its Organization stays in FHIR, inactive, for what names it."""
    await access.authorize(session, actor, Action.ORGANISATION_DELETE, organisation_id)
    organisation = await _load(session, organisation_id)
    if await repository.is_in_use(session, organisation_id):
        raise ConflictError("The organisation still has patients or conversations.")
    await fhir_directory.quietly(
        fhir_directory.retire_organisation(session, fhir, organisation), what="Organization"
    )
    await repository.delete_organisation(session, organisation)
    _audit(session, actor, "organisations.delete", organisation_id)


async def put_staff(
    session: AsyncSession,
    fhir: FhirGateway,
    actor: Actor,
    organisation_id: int,
    user_id: int,
    data: MembershipUpdate,
) -> StaffMembershipRead:
    """Nobody adds themself: membership widens what one may see, so it takes another admin."""
    await access.authorize(
        session, actor, Action.ORGANISATION_ADD_STAFF, organisation_id, about_user=user_id
    )
    user = await users_repository.get_user(session, user_id)
    if user is None:
        raise NotFoundError("No such user.")
    if user.system_permissions is SystemPermission.PATIENT:
        raise InvalidInputError("A patient cannot be staff.", field=("path", "user_id"))
    membership = await repository.get_staff_membership(session, organisation_id, user_id)
    if membership is None:
        await fhir_directory.publish_membership(
            fhir, await _load(session, organisation_id), user, active=True
        )
        membership = StaffMembership(organisation_id=organisation_id, user_id=user_id)
        session.add(membership)
    membership.is_primary = data.is_primary
    if data.is_primary:
        await repository.clear_primary_staff(session, user_id, except_organisation=organisation_id)
    await session.flush()
    _audit(session, actor, "organisations.staff_put", organisation_id, target_user_id=user_id)
    return StaffMembershipRead.model_validate(membership)


async def remove_staff(
    session: AsyncSession, fhir: FhirGateway, actor: Actor, organisation_id: int, user_id: int
) -> None:
    """Leaving an organisation is leaving its team groups too: a group gives access only to
    its organisation's staff. FHIR hears first: the role ends and the groups lose them."""
    await access.authorize(session, actor, Action.ORGANISATION_MANAGE_MEMBERS, organisation_id)
    user = await users_repository.get_user(session, user_id)
    if user is None or not await repository.get_staff_membership(session, organisation_id, user_id):
        raise NotFoundError("That user is not staff of this organisation.")
    organisation = await _load(session, organisation_id)
    for group in await repository.groups_with_member(session, organisation_id, user_id):
        await fhir_directory.quietly(
            fhir_directory.publish_group(session, fhir, group, leaving={user_id}), what="Group"
        )
    await fhir_directory.quietly(
        fhir_directory.publish_membership(fhir, organisation, user, active=False),
        what="PractitionerRole",
    )
    await repository.remove_staff(session, organisation_id, user_id)
    left = await repository.remove_from_groups(session, organisation_id, user_id)
    _audit(
        session, actor, "organisations.staff_remove", organisation_id, target_user_id=user_id,
        details={"group_ids": left} if left else None,
    )  # fmt: skip


async def put_patient(
    session: AsyncSession,
    actor: Actor,
    organisation_id: int,
    patient_id: str,
    data: MembershipUpdate,
) -> PatientMembershipRead:
    """An existing patient joins the organisation's care; never by a member of its staff."""
    await access.authorize(session, actor, Action.ORGANISATION_ADD_PATIENT, organisation_id)
    if not await directory.patient_exists(session, patient_id):
        raise NotFoundError("No such patient.")
    membership = await add_patient(session, organisation_id, patient_id, is_primary=data.is_primary)
    _audit(session, actor, "organisations.patient_put", organisation_id, patient_id=patient_id)
    return PatientMembershipRead.model_validate(membership)


async def add_patient(
    session: AsyncSession, organisation_id: int, patient_id: str, *, is_primary: bool
) -> PatientMembership:
    membership = await repository.get_patient_membership(session, organisation_id, patient_id)
    if membership is None:
        membership = PatientMembership(organisation_id=organisation_id, patient_id=patient_id)
        session.add(membership)
    membership.is_primary = is_primary
    if is_primary:
        await repository.clear_primary_patient(
            session, patient_id, except_organisation=organisation_id
        )
    await session.flush()
    return membership


async def remove_patient(
    session: AsyncSession, actor: Actor, organisation_id: int, patient_id: str
) -> None:
    await access.authorize(session, actor, Action.ORGANISATION_MANAGE_MEMBERS, organisation_id)
    if not await repository.remove_patient(session, organisation_id, patient_id):
        raise NotFoundError("That patient is not a member of this organisation.")
    _audit(session, actor, "organisations.patient_remove", organisation_id, patient_id=patient_id)


async def list_features(
    session: AsyncSession, actor: Actor, organisation_id: int
) -> list[FeatureRead]:
    await access.authorize(session, actor, Action.ORGANISATION_READ, organisation_id)
    return await _features(session, organisation_id)


async def _features(session: AsyncSession, organisation_id: int) -> list[FeatureRead]:
    return [
        FeatureRead(
            key=FeatureKey(feature.key),
            enabled_by_id=feature.enabled_by_id,
            enabled_by_name=name,
            enabled_at=feature.enabled_at,
        )
        for feature, name in await repository.features(session, organisation_id)
        if feature.key in KNOWN_FEATURES
    ]


async def enable_feature(
    session: AsyncSession, actor: Actor, organisation_id: int, key: FeatureKey
) -> FeatureRead:
    """Switch a feature on; switching on what is on keeps who did it first, and when."""
    await access.authorize(session, actor, Action.ORGANISATION_MANAGE_FEATURES, organisation_id)
    feature = await repository.get_feature(session, organisation_id, key.value)
    if feature is None:
        feature = OrganisationFeature(
            organisation_id=organisation_id,
            key=key.value,
            enabled_by_id=actor.user_id,
            enabled_at=utc_now(),
        )
        session.add(feature)
        await session.flush()
        _audit(
            session,
            actor,
            "organisations.feature_enable",
            organisation_id,
            details={"key": key.value},
        )
    enabled_by = (
        await users_repository.get_user(session, feature.enabled_by_id)
        if feature.enabled_by_id
        else None
    )
    return FeatureRead(
        key=key,
        enabled_by_id=feature.enabled_by_id,
        enabled_by_name=enabled_by.full_name if enabled_by else None,
        enabled_at=feature.enabled_at,
    )


async def disable_feature(
    session: AsyncSession, actor: Actor, organisation_id: int, key: FeatureKey
) -> None:
    await access.authorize(session, actor, Action.ORGANISATION_MANAGE_FEATURES, organisation_id)
    await repository.remove_feature(session, organisation_id, key.value)
    _audit(
        session, actor, "organisations.feature_disable", organisation_id, details={"key": key.value}
    )


async def organisations_with_feature(
    session: AsyncSession, organisation_ids: list[int], key: FeatureKey
) -> set[int]:
    return await repository.organisations_with_feature(session, organisation_ids, key.value)


async def features_of(
    session: AsyncSession, organisation_ids: list[int]
) -> dict[FeatureKey, set[int]]:
    """For each feature, which of these organisations have it on."""
    found: dict[FeatureKey, set[int]] = {key: set() for key in FeatureKey}
    for organisation_id, key in await repository.features_of(session, organisation_ids):
        if key in KNOWN_FEATURES:
            found[FeatureKey(key)].add(organisation_id)
    return found


async def patient_organisations(session: AsyncSession, patient_id: str) -> list[int]:
    return await repository.patient_organisations(session, patient_id)


async def as_patients_see_them(
    session: AsyncSession, patient_id: str
) -> list[OrganisationSettings]:
    """What a patient's own organisations tell them (primary first): the patient pages show
    it to that patient, about whom it says nothing they do not know."""
    return [
        settings_of(organisation)
        for organisation in await repository.of_patient(session, patient_id)
    ]


async def _load(session: AsyncSession, organisation_id: int) -> Organisation:
    organisation = await repository.get(session, organisation_id)
    if organisation is None:
        raise NotFoundError("No such organisation.")
    return organisation


def _read(organisation: Organisation) -> OrganisationRead:
    return OrganisationRead(
        id=organisation.id,
        name=organisation.name,
        type=organisation.type,
        location=organisation.location,
        settings=settings_of(organisation),
        created_at=organisation.created_at,
        updated_at=organisation.updated_at,
    )


def _audit(
    session: AsyncSession,
    actor: Actor,
    action: str,
    organisation_id: int,
    *,
    target_user_id: int | None = None,
    patient_id: str | None = None,
    details: dict[str, object] | None = None,
) -> None:
    audit.record(
        session,
        AuditEntry(
            action=action,
            actor_id=actor.user_id,
            target_user_id=target_user_id,
            patient_id=patient_id,
            details={"organisation_id": organisation_id, **(details or {})},
        ),
    )
