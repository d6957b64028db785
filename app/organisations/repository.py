from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import SystemPermission, User
from app.conversations.models import ConversationOrganisation
from app.directory.groups import Group, GroupMember
from app.directory.organisations import (
    Organisation,
    OrganisationFeature,
    PatientMembership,
    StaffMembership,
)
from app.directory.patients import PatientMetadata


async def get(session: AsyncSession, organisation_id: int) -> Organisation | None:
    return await session.get(Organisation, organisation_id)


async def add(session: AsyncSession, organisation: Organisation) -> Organisation:
    session.add(organisation)
    await session.flush()
    return organisation


async def list_page(
    session: AsyncSession,
    *,
    visible: ColumnElement[bool],
    after_id: int | None,
    limit: int,
) -> list[Organisation]:
    """Organisations by id, of those `visible` lets through."""
    statement = select(Organisation).where(visible).order_by(Organisation.id).limit(limit)
    if after_id is not None:
        statement = statement.where(Organisation.id > after_id)
    return list(await session.scalars(statement))


async def is_in_use(session: AsyncSession, organisation_id: int) -> bool:
    """Whether patients or conversations still belong to it."""
    patients = select(func.count()).where(PatientMembership.organisation_id == organisation_id)
    conversations = select(func.count()).where(
        ConversationOrganisation.organisation_id == organisation_id
    )
    return bool(await session.scalar(patients)) or bool(await session.scalar(conversations))


async def delete_organisation(session: AsyncSession, organisation: Organisation) -> None:
    await session.delete(organisation)
    await session.flush()


async def get_staff_membership(
    session: AsyncSession, organisation_id: int, user_id: int
) -> StaffMembership | None:
    return await session.get(StaffMembership, (organisation_id, user_id))


async def get_patient_membership(
    session: AsyncSession, organisation_id: int, patient_id: str
) -> PatientMembership | None:
    return await session.get(PatientMembership, (organisation_id, patient_id))


async def clear_primary_staff(
    session: AsyncSession, user_id: int, except_organisation: int
) -> None:
    await session.execute(
        update(StaffMembership)
        .where(
            StaffMembership.user_id == user_id,
            StaffMembership.organisation_id != except_organisation,
        )
        .values(is_primary=False)
    )


async def clear_primary_patient(
    session: AsyncSession, patient_id: str, except_organisation: int
) -> None:
    await session.execute(
        update(PatientMembership)
        .where(
            PatientMembership.patient_id == patient_id,
            PatientMembership.organisation_id != except_organisation,
        )
        .values(is_primary=False)
    )


async def remove_staff(session: AsyncSession, organisation_id: int, user_id: int) -> bool:
    result = await session.execute(
        delete(StaffMembership).where(
            StaffMembership.organisation_id == organisation_id, StaffMembership.user_id == user_id
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def groups_with_member(
    session: AsyncSession, organisation_id: int, user_id: int
) -> list[Group]:
    """The organisation's team groups that the user is in."""
    return list(
        await session.scalars(
            select(Group)
            .join(GroupMember, GroupMember.group_id == Group.id)
            .where(Group.organisation_id == organisation_id, GroupMember.user_id == user_id)
            .order_by(Group.id)
        )
    )


async def remove_from_groups(
    session: AsyncSession, organisation_id: int, user_id: int
) -> list[int]:
    """Take the user out of the organisation's team groups; the groups they left."""
    in_organisation = select(Group.id).where(Group.organisation_id == organisation_id)
    left = list(
        await session.scalars(
            delete(GroupMember)
            .where(GroupMember.user_id == user_id, GroupMember.group_id.in_(in_organisation))
            .returning(GroupMember.group_id)
        )
    )
    return sorted(left)


async def remove_patient(session: AsyncSession, organisation_id: int, patient_id: str) -> bool:
    result = await session.execute(
        delete(PatientMembership).where(
            PatientMembership.organisation_id == organisation_id,
            PatientMembership.patient_id == patient_id,
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def features(
    session: AsyncSession, organisation_id: int
) -> list[tuple[OrganisationFeature, str | None]]:
    statement = (
        select(OrganisationFeature, User.full_name)
        .outerjoin(User, User.id == OrganisationFeature.enabled_by_id)
        .where(OrganisationFeature.organisation_id == organisation_id)
        .order_by(OrganisationFeature.key)
    )
    return [(row[0], row[1]) for row in await session.execute(statement)]


async def get_feature(
    session: AsyncSession, organisation_id: int, key: str
) -> OrganisationFeature | None:
    return await session.get(OrganisationFeature, (organisation_id, key))


async def remove_feature(session: AsyncSession, organisation_id: int, key: str) -> None:
    await session.execute(
        delete(OrganisationFeature).where(
            OrganisationFeature.organisation_id == organisation_id, OrganisationFeature.key == key
        )
    )


async def organisations_with_feature(
    session: AsyncSession, organisation_ids: list[int], key: str
) -> set[int]:
    statement = select(OrganisationFeature.organisation_id).where(
        OrganisationFeature.organisation_id.in_(organisation_ids), OrganisationFeature.key == key
    )
    return set(await session.scalars(statement))


async def patient_organisations(session: AsyncSession, patient_id: str) -> list[int]:
    statement = select(PatientMembership.organisation_id).where(
        PatientMembership.patient_id == patient_id
    )
    return list(await session.scalars(statement))


async def of_patient(session: AsyncSession, patient_id: str) -> list[Organisation]:
    """The patient's organisations, their primary one first."""
    statement = (
        select(Organisation)
        .join(PatientMembership, PatientMembership.organisation_id == Organisation.id)
        .where(PatientMembership.patient_id == patient_id)
        .order_by(PatientMembership.is_primary.desc(), Organisation.id)
    )
    return list(await session.scalars(statement))


async def features_of(session: AsyncSession, organisation_ids: list[int]) -> list[tuple[int, str]]:
    statement = select(OrganisationFeature.organisation_id, OrganisationFeature.key).where(
        OrganisationFeature.organisation_id.in_(organisation_ids)
    )
    return [(organisation_id, key) for organisation_id, key in await session.execute(statement)]


async def colleagues(session: AsyncSession, user_id: int) -> list[tuple[int, str]]:
    """Active staff of the organisations the user is staff of, but the user."""
    mine = select(StaffMembership.organisation_id).where(StaffMembership.user_id == user_id)
    statement = (
        select(User.id, User.full_name)
        .join(StaffMembership, StaffMembership.user_id == User.id)
        .where(
            StaffMembership.organisation_id.in_(mine), User.id != user_id, User.is_active.is_(True)
        )
        .distinct()
        .order_by(User.full_name)
    )
    return [(person_id, name) for person_id, name in await session.execute(statement)]


async def staff_of(
    session: AsyncSession, organisation_id: int, *, active_only: bool = False
) -> list[tuple[int, str, bool]]:
    statement = (
        select(User.id, User.full_name, StaffMembership.is_primary)
        .join(StaffMembership, StaffMembership.user_id == User.id)
        .where(StaffMembership.organisation_id == organisation_id)
        .order_by(User.full_name)
    )
    if active_only:
        statement = statement.where(User.is_active.is_(True))
    return [(uid, name, primary) for uid, name, primary in await session.execute(statement)]


async def patients_of(
    session: AsyncSession, organisation_id: int
) -> list[tuple[PatientMetadata, bool]]:
    statement = (
        select(PatientMetadata, PatientMembership.is_primary)
        .join(PatientMembership, PatientMembership.patient_id == PatientMetadata.patient_id)
        .where(PatientMembership.organisation_id == organisation_id)
        .order_by(PatientMetadata.family_name, PatientMetadata.given_name)
    )
    return [(row[0], row[1]) for row in await session.execute(statement)]


async def staff_candidates(session: AsyncSession, organisation_id: int) -> list[tuple[int, str]]:
    """Active staff-level users (and above) who are not yet staff of the organisation."""
    already = select(StaffMembership.user_id).where(
        StaffMembership.organisation_id == organisation_id
    )
    statement = (
        select(User.id, User.full_name, User.username)
        .where(
            User.is_active.is_(True),
            User.system_permissions != SystemPermission.PATIENT,
            User.id.not_in(already),
        )
        .order_by(User.full_name, User.id)
    )
    return [
        (uid, f"{name} ({username})") for uid, name, username in await session.execute(statement)
    ]
