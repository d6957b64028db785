"""The rules of user administration: who may create, change, deactivate whom."""

from sqlalchemy.exc import IntegrityError

from app.access import service as access
from app.access.actions import Action
from app.access.competencies import competencies_of, is_profession, unknown_competencies
from app.access.levels import at_least
from app.accounts import repository as auth_repository
from app.accounts.models import SystemPermission, User
from app.auth import service as auth_service
from app.auth.password_policy import check_new_password
from app.auth.passwords import hash_password
from app.auth.service import AuthContext, Principal
from app.errors import ConflictError, InvalidInputError, NotFoundError
from app.fhir.protocol import FhirGateway
from app.fhir_directory import service as fhir_directory
from app.pagination import Page, decode_cursor, encode_cursor
from app.patients import service as patients_service
from app.users import repository
from app.users.schemas import UserCreate, UserRead, UserUpdate


def to_read(user: User) -> UserRead:
    return UserRead(
        id=user.id,
        username=user.username,
        full_name=user.full_name,
        email=user.email,
        system_permissions=user.system_permissions,
        base_profession=user.base_profession,
        additional_competencies=list(user.additional_competencies),
        removed_competencies=list(user.removed_competencies),
        competencies=competencies_of(user),
        fhir_patient_id=user.fhir_patient_id,
        is_active=user.is_active,
        totp_enabled=user.totp_enabled,
        created_at=user.created_at,
        updated_at=user.updated_at,
    )


# Changing these changes what a user may see and do: never one's own, always audited.
ACCESS_FIELDS = frozenset(
    {"system_permissions", "base_profession", "additional_competencies", "removed_competencies"}
)


async def create_user(
    ctx: AuthContext, fhir: FhirGateway, actor: Principal, data: UserCreate
) -> UserRead:
    """Staff's Practitioner first: if FHIR fails, no user is made."""
    await access.authorize(ctx.session, access.actor_of(actor.user), Action.USER_CREATE)
    _require_grant(ctx, actor, data.system_permissions, Action.USER_CREATE)
    _check_competencies(
        data.base_profession, data.additional_competencies, data.removed_competencies
    )
    check_new_password(data.password)
    await _check_patient_link(ctx, data.system_permissions, data.fhir_patient_id)
    user = User(
        username=data.username,
        email=data.email,
        full_name=data.full_name,
        password_hash=await hash_password(ctx.hasher, data.password),
        system_permissions=data.system_permissions,
        base_profession=data.base_profession,
        additional_competencies=sorted(set(data.additional_competencies)),
        removed_competencies=sorted(set(data.removed_competencies)),
        fhir_patient_id=data.fhir_patient_id,
    )
    if await auth_repository.find_user_by_username_or_email(
        ctx.session, username=user.username, email=user.email
    ):  # asked before FHIR hears of them; the insert below settles a race
        raise ConflictError("A user with that username or email already exists.")
    await fhir_directory.publish_user(fhir, user, active=True)
    try:
        async with ctx.session.begin_nested():
            await auth_repository.add_user(ctx.session, user)
    except IntegrityError:
        raise ConflictError("A user with that username, email or patient already exists.") from None
    ctx.audit(
        "users.create", actor_id=actor.user.id, target_user_id=user.id,
        details={"system_permissions": user.system_permissions.value},
    )  # fmt: skip
    return to_read(user)


async def list_users(
    ctx: AuthContext, actor: Principal, *, cursor: str | None, limit: int
) -> Page[UserRead]:
    await access.authorize(ctx.session, access.actor_of(actor.user), Action.USER_LIST)
    after_id = decode_cursor(cursor, int)[0] if cursor else None
    users = await repository.list_users(ctx.session, after_id=after_id, limit=limit + 1)
    next_cursor = encode_cursor(users[limit - 1].id) if len(users) > limit else None
    return Page(items=[to_read(user) for user in users[:limit]], next_cursor=next_cursor)


async def get_user(ctx: AuthContext, actor: Principal, user_id: int) -> UserRead:
    """Oneself, or anyone for an admin; others' accounts are not even confirmed to exist."""
    await access.authorize(ctx.session, access.actor_of(actor.user), Action.USER_READ, user_id)
    return to_read(await _load(ctx, user_id))


async def update_user(
    ctx: AuthContext, fhir: FhirGateway, actor: Principal, user_id: int, changes: UserUpdate
) -> UserRead:
    given = changes.model_dump(exclude_unset=True, exclude_none=True)
    action = Action.USER_SET_ACCESS if ACCESS_FIELDS & given.keys() else Action.USER_MANAGE
    user = await _load_managed(ctx, actor, user_id, action)
    if "system_permissions" in given:
        _require_grant(
            ctx, actor, changes.system_permissions or user.system_permissions, action, user_id
        )
        _check_level_change(user, changes.system_permissions or user.system_permissions)
    _check_competencies(
        given.get("base_profession", user.base_profession),
        given.get("additional_competencies", []),
        given.get("removed_competencies", []),
    )
    if "email" in given and await repository.email_taken(
        ctx.session, given["email"], except_user_id=user.id
    ):
        raise ConflictError("Another user has that email address.")
    if "full_name" in given:  # FHIR first: if it fails, the row is untouched
        await fhir_directory.publish_user(fhir, user, full_name=given["full_name"])
    for field, value in given.items():
        setattr(user, field, sorted(set(value)) if isinstance(value, list) else value)
    ctx.audit(
        "users.update", actor_id=actor.user.id, target_user_id=user.id,
        details={"fields": sorted(given)},
    )  # fmt: skip
    await ctx.session.flush()
    return to_read(user)


async def deactivate_user(
    ctx: AuthContext, fhir: FhirGateway, actor: Principal, user_id: int
) -> UserRead:
    if user_id == actor.user.id:
        raise ConflictError("You cannot deactivate your own account.")
    user = await _load_managed(ctx, actor, user_id, Action.USER_MANAGE)
    await fhir_directory.quietly(
        fhir_directory.publish_user(fhir, user, active=False), what="Practitioner"
    )
    user.is_active = False
    await auth_service.end_all_sessions(ctx, user, reason="deactivated")
    ctx.audit("users.deactivate", actor_id=actor.user.id, target_user_id=user.id)
    await ctx.session.flush()
    return to_read(user)


async def reactivate_user(
    ctx: AuthContext, fhir: FhirGateway, actor: Principal, user_id: int
) -> UserRead:
    user = await _load_managed(ctx, actor, user_id, Action.USER_MANAGE)
    await fhir_directory.publish_user(fhir, user, active=True)
    user.is_active = True
    ctx.audit("users.reactivate", actor_id=actor.user.id, target_user_id=user.id)
    await ctx.session.flush()
    return to_read(user)


async def reset_totp(ctx: AuthContext, actor: Principal, user_id: int) -> UserRead:
    """For a lost device: TOTP off, every session ended; the user enrols again."""
    user = await _load_managed(ctx, actor, user_id, Action.USER_MANAGE)
    user.totp_enabled = False
    user.totp_secret_encrypted = None
    await auth_service.end_all_sessions(ctx, user, reason="totp-reset")
    ctx.audit("users.totp_reset", actor_id=actor.user.id, target_user_id=user.id)
    await ctx.session.flush()
    return to_read(user)


async def _load(ctx: AuthContext, user_id: int) -> User:
    user = await auth_repository.get_user(ctx.session, user_id)
    if user is None:
        raise NotFoundError("No such user.")
    return user


async def _load_managed(ctx: AuthContext, actor: Principal, user_id: int, action: Action) -> User:
    await access.authorize(
        ctx.session,
        access.actor_of(actor.user),
        action,
        user_id,
        about_user=user_id if action is Action.USER_SET_ACCESS else None,
    )
    user = await _load(ctx, user_id)
    # An admin manages users up to their own level, never above it.
    if not at_least(actor.user.system_permissions, user.system_permissions):
        raise access.refused(
            ctx.session,
            access.actor_of(actor.user),
            action,
            target=user_id,
            reason="You cannot change a user above your own permission level.",
        )
    return user


def _require_grant(
    ctx: AuthContext,
    actor: Principal,
    level: SystemPermission,
    action: Action,
    user_id: int | None = None,
) -> None:
    if not at_least(actor.user.system_permissions, level):
        raise access.refused(
            ctx.session,
            access.actor_of(actor.user),
            action,
            target=user_id,
            reason=f"You cannot give the {level.value} level: it is above your own.",
        )


def _check_level_change(user: User, level: SystemPermission) -> None:
    """A patient's portal login stays a patient's: staff work needs an account of its own,
    or the login would carry the patient's identity into clinical access."""
    if user.fhir_patient_id is not None and level is not SystemPermission.PATIENT:
        raise InvalidInputError(
            "This account is a patient's portal login; create a separate staff account.",
            field=("body", "system_permissions"),
        )


def _check_competencies(base: str, additional: list[str], removed: list[str]) -> None:
    if not is_profession(base):
        raise InvalidInputError(
            f"Unknown base profession {base!r}.", field=("body", "base_profession")
        )
    for field, names in (
        ("additional_competencies", additional),
        ("removed_competencies", removed),
    ):
        if unknown := unknown_competencies(names):
            raise InvalidInputError(
                f"Unknown competencies: {', '.join(unknown)}.", field=("body", field)
            )


async def _check_patient_link(
    ctx: AuthContext, level: SystemPermission, patient_id: str | None
) -> None:
    if (level is SystemPermission.PATIENT) != (patient_id is not None):
        raise InvalidInputError(
            "A patient user, and only a patient user, names its FHIR Patient.",
            field=("body", "fhir_patient_id"),
        )
    if patient_id is not None and not await patients_service.patient_exists(
        ctx.session, patient_id
    ):
        raise InvalidInputError("No such patient.", field=("body", "fhir_patient_id"))
