"""The rows a publication reads: the directory as it stands."""

from collections.abc import Collection, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import SystemPermission, User
from app.directory.groups import Group, GroupMember
from app.directory.organisations import Organisation, StaffMembership


async def organisation(session: AsyncSession, organisation_id: int) -> Organisation | None:
    return await session.get(Organisation, organisation_id)


async def member_ids(session: AsyncSession, group_id: int) -> set[int]:
    return set(
        await session.scalars(select(GroupMember.user_id).where(GroupMember.group_id == group_id))
    )


async def users(session: AsyncSession, user_ids: Collection[int]) -> Sequence[User]:
    if not user_ids:
        return []
    return (
        await session.scalars(select(User).where(User.id.in_(user_ids)).order_by(User.id))
    ).all()


async def groups_of(session: AsyncSession, organisation_id: int) -> Sequence[Group]:
    return (
        await session.scalars(
            select(Group).where(Group.organisation_id == organisation_id).order_by(Group.id)
        )
    ).all()


async def staff_of(session: AsyncSession, organisation_id: int) -> Sequence[User]:
    return (
        await session.scalars(
            select(User)
            .join(StaffMembership, StaffMembership.user_id == User.id)
            .where(StaffMembership.organisation_id == organisation_id)
            .order_by(User.id)
        )
    ).all()


async def all_staff(session: AsyncSession) -> Sequence[User]:
    return (
        await session.scalars(
            select(User)
            .where(User.system_permissions != SystemPermission.PATIENT)
            .order_by(User.id)
        )
    ).all()


async def all_organisations(session: AsyncSession) -> Sequence[Organisation]:
    return (await session.scalars(select(Organisation).order_by(Organisation.id))).all()


async def all_memberships(session: AsyncSession) -> Sequence[tuple[Organisation, User]]:
    rows = await session.execute(
        select(Organisation, User)
        .join(StaffMembership, StaffMembership.organisation_id == Organisation.id)
        .join(User, User.id == StaffMembership.user_id)
        .order_by(Organisation.id, User.id)
    )
    return [(row[0], row[1]) for row in rows]


async def all_groups(session: AsyncSession) -> Sequence[Group]:
    return (await session.scalars(select(Group).order_by(Group.id))).all()
