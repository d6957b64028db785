from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.directory.groups import Group, GroupMember
from app.directory.organisations import StaffMembership


async def get(session: AsyncSession, group_id: int) -> Group | None:
    return await session.get(Group, group_id)


async def add(session: AsyncSession, group: Group) -> Group:
    session.add(group)
    await session.flush()
    return group


async def name_taken(
    session: AsyncSession, organisation_id: int, name: str, *, except_id: int
) -> bool:
    statement = select(Group.id).where(
        Group.organisation_id == organisation_id, Group.name == name, Group.id != except_id
    )
    return (await session.scalar(statement)) is not None


async def members(session: AsyncSession, group_id: int) -> list[tuple[int, str]]:
    statement = (
        select(User.id, User.full_name)
        .join(GroupMember, GroupMember.user_id == User.id)
        .where(GroupMember.group_id == group_id)
        .order_by(User.full_name, User.id)
    )
    return [(user_id, name) for user_id, name in await session.execute(statement)]


async def staff_of(session: AsyncSession, organisation_id: int, user_ids: list[int]) -> set[int]:
    statement = select(StaffMembership.user_id).where(
        StaffMembership.organisation_id == organisation_id, StaffMembership.user_id.in_(user_ids)
    )
    return set(await session.scalars(statement))


async def is_member(session: AsyncSession, group_id: int, user_id: int) -> bool:
    return await session.get(GroupMember, (group_id, user_id)) is not None


def add_member(session: AsyncSession, group_id: int, user_id: int) -> None:
    session.add(GroupMember(group_id=group_id, user_id=user_id))


async def remove_member(session: AsyncSession, group_id: int, user_id: int) -> bool:
    result = await session.execute(
        delete(GroupMember).where(GroupMember.group_id == group_id, GroupMember.user_id == user_id)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def of_organisation(session: AsyncSession, organisation_id: int) -> list[Group]:
    statement = select(Group).where(Group.organisation_id == organisation_id).order_by(Group.name)
    return list(await session.scalars(statement))


async def of_organisations(session: AsyncSession, organisation_ids: set[int]) -> list[Group]:
    statement = (
        select(Group)
        .where(Group.organisation_id.in_(organisation_ids))
        .order_by(Group.name, Group.id)
    )
    return list(await session.scalars(statement))


async def of_staff_organisations(session: AsyncSession, user_id: int) -> list[Group]:
    """The groups of every organisation the user staffs."""
    mine = select(StaffMembership.organisation_id).where(StaffMembership.user_id == user_id)
    statement = select(Group).where(Group.organisation_id.in_(mine)).order_by(Group.name, Group.id)
    return list(await session.scalars(statement))
