from fastapi import APIRouter, status

from app.auth.dependencies import AuthContextDep, CurrentPrincipal
from app.dependencies import FhirDep
from app.ids import PathId
from app.pagination import CursorQuery, LimitQuery, Page
from app.users import service
from app.users.schemas import UserCreate, UserRead, UserUpdate

router = APIRouter(prefix="/api/v1/users", tags=["users"])


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_user(
    body: UserCreate, actor: CurrentPrincipal, ctx: AuthContextDep, fhir: FhirDep
) -> UserRead:
    """Create a user (admin); no one can be given a level above the creator's."""
    return await service.create_user(ctx, fhir, actor, body)


@router.get("")
async def list_users(
    actor: CurrentPrincipal, ctx: AuthContextDep, cursor: CursorQuery = None, limit: LimitQuery = 50
) -> Page[UserRead]:
    """All users, oldest first (admin)."""
    return await service.list_users(ctx, actor, cursor=cursor, limit=limit)


@router.get("/{user_id}")
async def get_user(user_id: PathId, actor: CurrentPrincipal, ctx: AuthContextDep) -> UserRead:
    """One user (admin, or oneself)."""
    return await service.get_user(ctx, actor, user_id)


@router.patch("/{user_id}")
async def update_user(
    user_id: PathId, body: UserUpdate, actor: CurrentPrincipal, ctx: AuthContextDep, fhir: FhirDep
) -> UserRead:
    """Change profile, permission level or competencies (admin)."""
    return await service.update_user(ctx, fhir, actor, user_id, body)


@router.post("/{user_id}/deactivate")
async def deactivate_user(
    user_id: PathId, actor: CurrentPrincipal, ctx: AuthContextDep, fhir: FhirDep
) -> UserRead:
    """Deactivate a user; every session of theirs ends at once."""
    return await service.deactivate_user(ctx, fhir, actor, user_id)


@router.post("/{user_id}/reactivate")
async def reactivate_user(
    user_id: PathId, actor: CurrentPrincipal, ctx: AuthContextDep, fhir: FhirDep
) -> UserRead:
    """Let a deactivated user log in again."""
    return await service.reactivate_user(ctx, fhir, actor, user_id)


@router.post("/{user_id}/totp/reset")
async def reset_totp(user_id: PathId, actor: CurrentPrincipal, ctx: AuthContextDep) -> UserRead:
    """Turn off a user's TOTP after they lost their device; they must enrol again."""
    return await service.reset_totp(ctx, actor, user_id)
