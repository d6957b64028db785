from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.organisations.models import Organisation, StaffMembership


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
