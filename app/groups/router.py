from fastapi import APIRouter, status

from app.auth.dependencies import ActorDep
from app.dependencies import FhirDep, SessionDep
from app.groups import service
from app.groups.schemas import GroupCreate, GroupRead, GroupUpdate
from app.ids import PathId

router = APIRouter(prefix="/api/v1/groups", tags=["groups"])


@router.post("", status_code=status.HTTP_201_CREATED)
async def create(
    body: GroupCreate, actor: ActorDep, session: SessionDep, fhir: FhirDep
) -> GroupRead:
    """Create a team group in an organisation (admin, or staff who manage groups)."""
    return await service.create(session, fhir, actor, body)


@router.get("/{group_id}")
async def read(group_id: PathId, actor: ActorDep, session: SessionDep) -> GroupRead:
    """One group and its members (its organisation's staff, or admin)."""
    return await service.read(session, actor, group_id)


@router.patch("/{group_id}")
async def update(
    group_id: PathId, body: GroupUpdate, actor: ActorDep, session: SessionDep, fhir: FhirDep
) -> GroupRead:
    """Rename a group or change its description."""
    return await service.update(session, fhir, actor, group_id, body)


@router.put("/{group_id}/members/{user_id}")
async def add_member(
    group_id: PathId, user_id: PathId, actor: ActorDep, session: SessionDep, fhir: FhirDep
) -> GroupRead:
    """Add a member: a staff member of the group's organisation."""
    return await service.add_member(session, fhir, actor, group_id, user_id)


@router.delete("/{group_id}/members/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_member(
    group_id: PathId, user_id: PathId, actor: ActorDep, session: SessionDep, fhir: FhirDep
) -> None:
    """Remove a member; they stop seeing the group's conversations at once."""
    await service.remove_member(session, fhir, actor, group_id, user_id)
