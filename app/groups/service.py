"""Team groups within an organisation; members must be its staff."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.access import service as access
from app.access.actions import Action
from app.access.policy import Actor, Outcome
from app.audit import log as audit
from app.audit.log import AuditEntry
from app.db import utc_now
from app.directory.groups import Group
from app.errors import ConflictError, InvalidInputError, NotFoundError
from app.fhir.protocol import FhirGateway
from app.fhir_directory import service as fhir_directory
from app.groups import repository
from app.groups.schemas import GroupCreate, GroupRead, GroupUpdate, MemberRead


async def create(
    session: AsyncSession, fhir: FhirGateway, actor: Actor, data: GroupCreate
) -> GroupRead:
    """A group of the organisation's staff; its creator joins only if someone else adds them."""
    await access.authorize(session, actor, Action.GROUP_CREATE, data.organisation_id)
    if actor.user_id in data.member_ids:
        raise access.refused(
            session,
            actor,
            Action.GROUP_CREATE,
            target=data.organisation_id,
            outcome=Outcome.OWN_ACCESS,
            reason="Another admin must add you to a group.",
        )
    await _check_members(session, data.organisation_id, data.member_ids)
    if await repository.name_taken(session, data.organisation_id, data.name, except_id=0):
        raise ConflictError("The organisation already has a group of that name.")
    group = Group(
        organisation_id=data.organisation_id, name=data.name, description=data.description
    )
    await fhir_directory.publish_group(session, fhir, group, joining=data.member_ids)
    group = await repository.add(session, group)
    for user_id in sorted(set(data.member_ids)):
        repository.add_member(session, group.id, user_id)
    await session.flush()
    _audit(session, actor, "groups.create", group)
    return await _read(session, group)


async def of_organisation(session: AsyncSession, actor: Actor, organisation_id: int) -> list[Group]:
    """The organisation's groups, for those who may create them."""
    await access.authorize(session, actor, Action.GROUP_CREATE, organisation_id)
    return await repository.of_organisation(session, organisation_id)


async def read(session: AsyncSession, actor: Actor, group_id: int) -> GroupRead:
    return await _read(session, await load(session, actor, group_id, Action.GROUP_READ))


async def _read(session: AsyncSession, group: Group) -> GroupRead:
    """A group already authorised: managing one implies reading it."""
    members = await repository.members(session, group.id)
    return GroupRead(
        id=group.id,
        organisation_id=group.organisation_id,
        name=group.name,
        description=group.description,
        members=[MemberRead(id=user_id, name=name) for user_id, name in members],
        created_at=group.created_at,
        updated_at=group.updated_at,
    )


async def load(
    session: AsyncSession,
    actor: Actor,
    group_id: int,
    action: Action,
    *,
    about_user: int | None = None,
) -> Group:
    """The group if the actor may do `action` to it; 404 for a group they may not see."""
    await access.authorize(session, actor, action, group_id, about_user=about_user)
    group = await repository.get(session, group_id)
    if group is None:  # deleted since
        raise NotFoundError("No such group.")
    return group


async def update(
    session: AsyncSession, fhir: FhirGateway, actor: Actor, group_id: int, changes: GroupUpdate
) -> GroupRead:
    group = await load(session, actor, group_id, Action.GROUP_MANAGE)
    if changes.name is not None and await repository.name_taken(
        session, group.organisation_id, changes.name, except_id=group.id
    ):
        raise ConflictError("The organisation already has a group of that name.")
    given: dict[str, Any] = {}
    if changes.name is not None:
        given["name"] = changes.name
    if "description" in changes.model_fields_set:
        given["description"] = changes.description
    await fhir_directory.publish_group(session, fhir, group, changes=given)  # FHIR first
    for field, value in given.items():
        setattr(group, field, value)
    group.updated_at = utc_now()
    await session.flush()
    _audit(session, actor, "groups.update", group)
    return await _read(session, group)


async def add_member(
    session: AsyncSession, fhir: FhirGateway, actor: Actor, group_id: int, user_id: int
) -> GroupRead:
    """Membership widens what one may see: nobody adds themself."""
    group = await load(session, actor, group_id, Action.GROUP_ADD_MEMBER, about_user=user_id)
    await _check_members(session, group.organisation_id, [user_id], field=("path", "user_id"))
    if not await repository.is_member(session, group.id, user_id):
        await fhir_directory.publish_group(session, fhir, group, joining={user_id})
        repository.add_member(session, group.id, user_id)
        await session.flush()
        _audit(session, actor, "groups.add_member", group, target_user_id=user_id)
    return await _read(session, group)


async def remove_member(
    session: AsyncSession, fhir: FhirGateway, actor: Actor, group_id: int, user_id: int
) -> None:
    """The member stops seeing the group's conversations at once."""
    group = await load(session, actor, group_id, Action.GROUP_MANAGE)
    if not await repository.is_member(session, group.id, user_id):
        raise NotFoundError("That user is not a member of this group.")
    await fhir_directory.quietly(
        fhir_directory.publish_group(session, fhir, group, leaving={user_id}), what="Group"
    )
    await repository.remove_member(session, group.id, user_id)
    _audit(session, actor, "groups.remove_member", group, target_user_id=user_id)


async def _check_members(
    session: AsyncSession,
    organisation_id: int,
    user_ids: list[int],
    field: tuple[str, str] = ("body", "member_ids"),
) -> None:
    strangers = set(user_ids) - await repository.staff_of(session, organisation_id, user_ids)
    if strangers:
        raise InvalidInputError(
            f"Not staff of the group's organisation: {', '.join(map(str, sorted(strangers)))}.",
            field=field,
        )


def _audit(
    session: AsyncSession,
    actor: Actor,
    action: str,
    group: Group,
    *,
    target_user_id: int | None = None,
) -> None:
    audit.record(
        session,
        AuditEntry(
            action=action,
            actor_id=actor.user_id,
            target_user_id=target_user_id,
            details={"group_id": group.id, "organisation_id": group.organisation_id},
        ),
    )


async def group_in_organisations(
    session: AsyncSession, group_id: int, organisation_ids: set[int]
) -> Group | None:
    group = await repository.get(session, group_id)
    return group if group is not None and group.organisation_id in organisation_ids else None


async def group_by_id(session: AsyncSession, group_id: int) -> Group | None:
    """A group, for naming it where access was decided already (a conversation's task)."""
    return await repository.get(session, group_id)


async def teams_of_colleagues(session: AsyncSession, user_id: int) -> list[Group]:
    """The team groups a staff member may add to a conversation they start: those of the
    organisations they staff (the start checks each again)."""
    return await repository.of_staff_organisations(session, user_id)


async def of_organisations(session: AsyncSession, organisation_ids: set[int]) -> list[Group]:
    """Groups of organisations whose conversation was authorised already (work is given
    to them)."""
    return await repository.of_organisations(session, organisation_ids)
