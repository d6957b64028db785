"""The SQL behind access decisions: relations between a caller and a patient or organisation."""

from sqlalchemy import ColumnElement, and_, exists, false, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from app.messaging.models import (
    Conversation,
    ConversationOrganisation,
    ConversationParticipant,
    GroupMember,
)
from app.organisations.models import Organisation, PatientMembership, StaffMembership
from app.patients.models import ExternalAccessGrant, PatientMetadata

PatientIdColumn = ColumnElement[str] | QueryableAttribute[str]


def care_relation(user_id: int, patient_id_column: PatientIdColumn) -> ColumnElement[bool]:
    """True where the user cares for the patient: a shared organisation or a live grant."""
    shared_organisation = exists().where(
        PatientMembership.patient_id == patient_id_column,
        StaffMembership.organisation_id == PatientMembership.organisation_id,
        StaffMembership.user_id == user_id,
    )
    live_grant = exists().where(
        ExternalAccessGrant.patient_id == patient_id_column,
        ExternalAccessGrant.user_id == user_id,
        ExternalAccessGrant.revoked_at.is_(None),
    )
    return or_(shared_organisation, live_grant)


def visible_patients(
    *,
    user_id: int,
    is_admin: bool,
    own_patient_id: str | None,
    patient_id_column: PatientIdColumn,
) -> ColumnElement[bool]:
    if is_admin:
        return true()
    if own_patient_id is not None:
        return patient_id_column == own_patient_id
    if user_id <= 0:
        return false()
    return care_relation(user_id, patient_id_column)


async def patient_relations(
    session: AsyncSession, *, user_id: int, patient_id: str
) -> tuple[bool, bool, bool]:
    """(exists, is active, cared for by the user), in one round trip."""
    patient = PatientMetadata.patient_id
    row = (
        await session.execute(
            select(PatientMetadata.is_active, care_relation(user_id, patient)).where(
                patient == patient_id
            )
        )
    ).first()
    if row is None:
        return False, False, False
    return True, bool(row[0]), bool(row[1])


async def organisation_relations(
    session: AsyncSession, *, user_id: int, own_patient_id: str | None, organisation_id: int
) -> tuple[bool, bool]:
    """(exists, the user is a member: staff, or the patient the user is)."""
    staff = exists().where(
        StaffMembership.organisation_id == Organisation.id, StaffMembership.user_id == user_id
    )
    as_patient = exists().where(
        PatientMembership.organisation_id == Organisation.id,
        PatientMembership.patient_id == own_patient_id,
    )
    member = or_(staff, as_patient) if own_patient_id is not None else staff
    row = (
        await session.execute(
            select(Organisation.id, member).where(Organisation.id == organisation_id)
        )
    ).first()
    return (row is not None, bool(row[1]) if row else False)


def takes_part(user_id: int) -> ColumnElement[bool]:
    """The user is a participant of `Conversation`: in person, or through a group."""
    return exists().where(
        ConversationParticipant.conversation_id == Conversation.id,
        or_(
            ConversationParticipant.user_id == user_id,
            ConversationParticipant.group_id.in_(
                select(GroupMember.group_id).where(GroupMember.user_id == user_id)
            ),
        ),
    )


def staff_of_conversation_organisation(user_id: int) -> ColumnElement[bool]:
    return exists().where(
        ConversationOrganisation.conversation_id == Conversation.id,
        StaffMembership.organisation_id == ConversationOrganisation.organisation_id,
        StaffMembership.user_id == user_id,
    )


def visible_conversations(
    *, user_id: int, own_patient_id: str | None, reads_records: bool
) -> ColumnElement[bool]:
    """A WHERE on `Conversation`: the ones the user may read.

    A patient: conversations about themself that they take part in. Staff who
    may read patient records: conversations about patients they care for, that
    they take part in, or that belong to one of their organisations, or whose
    patient granted them access.
    """
    if own_patient_id is not None:
        return and_(Conversation.patient_id == own_patient_id, takes_part(user_id))
    if not reads_records:
        return false()
    live_grant = exists().where(
        ExternalAccessGrant.patient_id == Conversation.patient_id,
        ExternalAccessGrant.user_id == user_id,
        ExternalAccessGrant.revoked_at.is_(None),
    )
    return and_(
        care_relation(user_id, Conversation.patient_id),
        or_(takes_part(user_id), staff_of_conversation_organisation(user_id), live_grant),
    )
