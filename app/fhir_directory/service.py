"""Keep the FHIR resources behind Parley's people and teams in step with the directory.

Each call publishes a row as it is about to be, before anything about it is written to
SQL (FHIR first, as for messages): if the FHIR server fails, the change fails whole and
the row is untouched. A resource's id is chosen by Parley and kept on its row, and the
resource is written with a PUT to it, so a repeat lands on the same one. Parley owns
these resources whole, so a refresh replaces them.

A change that takes access away (deactivating someone, removing them from an
organisation or a team, deleting an organisation) is never held up by FHIR: it is
published `quietly`, and if FHIR fails the change goes ahead and the resource catches up
at the next publication or `parley publish-directory`. Withdrawing access at once
matters more than FHIR showing it at once.

A row made before Parley published its directory has no resource yet; it is left out
of the ones that would name it until `parley publish-directory` fills it in.
"""

import logging
from collections.abc import Awaitable, Callable, Collection
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import SystemPermission, User
from app.directory.groups import Group
from app.directory.organisations import Organisation
from app.fhir.directory import (
    OrganisationEntry,
    StaffMember,
    TeamGroup,
    build_group,
    build_organization,
    build_practitioner,
    build_practitioner_role,
    new_fhir_id,
)
from app.fhir.errors import FhirError
from app.fhir.protocol import FhirGateway
from app.fhir_directory import repository

logger = logging.getLogger(__name__)


async def quietly(publication: Awaitable[object], *, what: str) -> None:
    """Publish, but let a FHIR failure pass (logged, without names): for changes that
    take access away, which must happen whatever FHIR does."""
    try:
        await publication
    except FhirError as error:
        logger.warning("the FHIR %s waits for the next publication: %s", what, error.slug)


async def publish_user(
    fhir: FhirGateway, user: User, *, full_name: str | None = None, active: bool | None = None
) -> None:
    """A staff user's Practitioner, with the name and state they are about to have (a
    patient's portal login is named by its Patient instead)."""
    if user.system_permissions is SystemPermission.PATIENT:
        return
    fhir_id = user.fhir_practitioner_id or new_fhir_id()
    member = StaffMember(
        fhir_id=fhir_id,
        full_name=full_name if full_name is not None else user.full_name,
        active=active if active is not None else user.is_active is not False,
    )
    await fhir.put(build_practitioner(member))
    user.fhir_practitioner_id = fhir_id


async def publish_organisation(
    fhir: FhirGateway,
    organisation: Organisation,
    *,
    changes: dict[str, Any] | None = None,
    active: bool = True,
) -> None:
    """The Organization, with `changes` (name, type, location, display name, phone) about
    to be made."""
    shown = {
        "name": organisation.name,
        "type": organisation.type,
        "location": organisation.location,
        "display_name": organisation.display_name,
        "phone": organisation.phone,
    } | (changes or {})
    fhir_id = organisation.fhir_id or new_fhir_id()
    entry = OrganisationEntry(
        fhir_id=fhir_id,
        name=shown["name"],
        kind=shown["type"],
        location=shown["location"],
        alias=shown["display_name"],
        phone=shown["phone"],
        active=active,
    )
    await fhir.put(build_organization(entry))
    organisation.fhir_id = fhir_id


async def publish_membership(
    fhir: FhirGateway, organisation: Organisation, user: User, *, active: bool
) -> None:
    """The user's PractitionerRole at the organisation; left out while either is not yet
    published."""
    if user.fhir_practitioner_id is None or organisation.fhir_id is None:
        return
    role = build_practitioner_role(
        practitioner_fhir_id=user.fhir_practitioner_id,
        organization_fhir_id=organisation.fhir_id,
        active=active,
    )
    await fhir.put(role)


async def publish_group(
    session: AsyncSession,
    fhir: FhirGateway,
    group: Group,
    *,
    changes: dict[str, Any] | None = None,
    joining: Collection[int] = (),
    leaving: Collection[int] = (),
    active: bool = True,
) -> None:
    """The Group with the changes (name, description) and members about to be made:
    its members now, with the users `joining` and without those `leaving`."""
    shown = {"name": group.name, "description": group.description} | (changes or {})
    members = [
        user
        for user in await repository.users(
            session, {*await repository.member_ids(session, group.id), *joining} - set(leaving)
        )
        if user.fhir_practitioner_id is not None
    ]
    organisation = await repository.organisation(session, group.organisation_id)
    fhir_id = group.fhir_id or new_fhir_id()
    team = TeamGroup(
        fhir_id=fhir_id,
        name=shown["name"],
        description=shown["description"],
        organisation_fhir_id=organisation.fhir_id if organisation is not None else None,
        member_fhir_ids=tuple(str(user.fhir_practitioner_id) for user in members),
        active=active,
    )
    await fhir.put(build_group(team))
    group.fhir_id = fhir_id


async def retire_organisation(
    session: AsyncSession, fhir: FhirGateway, organisation: Organisation
) -> None:
    """Before an organisation leaves Parley: its teams, its staff's roles and itself stay
    in FHIR, inactive, so no other system takes them for current."""
    for group in await repository.groups_of(session, organisation.id):
        if group.fhir_id is not None:
            await publish_group(session, fhir, group, active=False)
    for user in await repository.staff_of(session, organisation.id):
        await publish_membership(fhir, organisation, user, active=False)
    if organisation.fhir_id is not None:
        await publish_organisation(fhir, organisation, active=False)


async def publish_everything(
    session: AsyncSession, fhir: FhirGateway, progress: Callable[[str, int, int], None]
) -> dict[str, int]:
    """Every staff user, organisation, membership and group, created where missing and
    refreshed where present: what `parley publish-directory` runs over existing data.
    Each row's new id commits as soon as its resource exists, so a run stopped half way
    keeps what it did. `progress(kind, done, total)` is told as it goes."""
    counts: dict[str, int] = {}
    staff = await repository.all_staff(session)
    for done, user in enumerate(staff, 1):
        await publish_user(fhir, user)
        await session.commit()
        progress("practitioners", done, len(staff))
    counts["practitioners"] = len(staff)
    organisations = await repository.all_organisations(session)
    for done, organisation in enumerate(organisations, 1):
        await publish_organisation(fhir, organisation)
        await session.commit()
        progress("organisations", done, len(organisations))
    counts["organisations"] = len(organisations)
    memberships = await repository.all_memberships(session)
    await session.commit()
    for done, (organisation, user) in enumerate(memberships, 1):
        await publish_membership(fhir, organisation, user, active=True)
        progress("practitioner roles", done, len(memberships))
    counts["practitioner roles"] = len(memberships)
    groups = await repository.all_groups(session)
    for done, group in enumerate(groups, 1):
        await publish_group(session, fhir, group)
        await session.commit()
        progress("groups", done, len(groups))
    counts["groups"] = len(groups)
    return counts
