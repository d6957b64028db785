from sqlalchemy import ColumnElement, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.directory.organisations import PatientMembership
from app.directory.patients import ExternalAccessGrant, PatientMetadata


async def get(session: AsyncSession, patient_id: str) -> PatientMetadata | None:
    return await session.get(PatientMetadata, patient_id)


async def add(session: AsyncSession, patient: PatientMetadata) -> PatientMetadata:
    session.add(patient)
    await session.flush()
    return patient


async def list_page(
    session: AsyncSession,
    *,
    visible: ColumnElement[bool],
    include_inactive: bool,
    after: tuple[str, str, str] | None,
    limit: int,
) -> list[PatientMetadata]:
    """Patients by family name, given name and id."""
    order = (PatientMetadata.family_name, PatientMetadata.given_name, PatientMetadata.patient_id)
    statement = select(PatientMetadata).where(visible).order_by(*order).limit(limit)
    if not include_inactive:
        statement = statement.where(PatientMetadata.is_active.is_(True))
    if after is not None:
        statement = statement.where(tuple_(*order) > after)
    return list(await session.scalars(statement))


async def organisation_ids(session: AsyncSession, patient_ids: list[str]) -> dict[str, list[int]]:
    statement = (
        select(PatientMembership.patient_id, PatientMembership.organisation_id)
        .where(PatientMembership.patient_id.in_(patient_ids))
        .order_by(PatientMembership.is_primary.desc(), PatientMembership.organisation_id)
    )
    found: dict[str, list[int]] = {patient_id: [] for patient_id in patient_ids}
    for patient_id, organisation_id in await session.execute(statement):
        found[patient_id].append(organisation_id)
    return found


async def unrevoked_grant(
    session: AsyncSession, patient_id: str, user_id: int
) -> ExternalAccessGrant | None:
    """The grant not yet revoked (there is at most one), expired or not."""
    statement = select(ExternalAccessGrant).where(
        ExternalAccessGrant.patient_id == patient_id,
        ExternalAccessGrant.user_id == user_id,
        ExternalAccessGrant.revoked_at.is_(None),
    )
    return await session.scalar(statement)


async def add_grant(session: AsyncSession, grant: ExternalAccessGrant) -> ExternalAccessGrant:
    session.add(grant)
    await session.flush()
    return grant


async def names(session: AsyncSession, patient_ids: list[str]) -> dict[str, str]:
    statement = select(
        PatientMetadata.patient_id, PatientMetadata.given_name, PatientMetadata.family_name
    ).where(PatientMetadata.patient_id.in_(patient_ids))
    return {pid: f"{given} {family}" for pid, given, family in await session.execute(statement)}
