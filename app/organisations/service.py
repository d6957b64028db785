from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.organisations import repository


@dataclass(frozen=True)
class Membership:
    organisation_id: int
    name: str
    is_primary: bool


async def memberships_of_staff(session: AsyncSession, user_id: int) -> list[Membership]:
    return [
        Membership(organisation_id=organisation.id, name=organisation.name, is_primary=primary)
        for organisation, primary in await repository.staff_memberships_of(session, user_id)
    ]
