"""Queries of the directory that several domains ask: the organisations a person staffs,
and whether a patient is known."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.directory.organisations import Organisation, StaffMembership
from app.directory.patients import PatientMetadata


async def staff_memberships_of(
    session: AsyncSession, user_id: int
) -> list[tuple[Organisation, bool]]:
    statement = (
        select(Organisation, StaffMembership.is_primary)
        .join(StaffMembership, StaffMembership.organisation_id == Organisation.id)
        .where(StaffMembership.user_id == user_id)
        .order_by(StaffMembership.is_primary.desc(), Organisation.name)
    )
    return [(row[0], row[1]) for row in await session.execute(statement)]


async def patient_exists(session: AsyncSession, patient_id: str) -> bool:
    found = await session.scalar(
        select(PatientMetadata.patient_id).where(PatientMetadata.patient_id == patient_id)
    )
    return found is not None
