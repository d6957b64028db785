"""Login, token refresh, logout, sessions and password changes."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from argon2 import PasswordHasher
from sqlalchemy.ext.asyncio import AsyncSession

from app.access import service as access
from app.accounts import repository
from app.accounts.models import AuthSession, SystemPermission, User
from app.audit import log as audit
from app.audit.log import ALLOWED, DENIED, AuditEntry
from app.auth import totp
from app.auth.errors import (
    InvalidCredentialsError,
    InvalidTokenError,
    RefreshTokenReusedError,
    TotpInvalidError,
    TotpRequiredError,
)
from app.auth.keys import decrypt_totp_secret
from app.auth.password_policy import check_new_password
from app.auth.passwords import hash_password, needs_rehash, password_hasher, verify_password
from app.auth.schemas import MeRead, OrganisationMembershipRead, SessionRead, TokenPair
from app.auth.throttle import LoginThrottle, create_storage
from app.auth.tokens import (
    AccessClaims,
    hash_refresh_token,
    issue_access_token,
    new_refresh_token,
)
from app.config import Settings
from app.db import utc_now
from app.directory import repository as directory
from app.errors import ConflictError, InvalidInputError, NotFoundError, TooManyRequestsError
from app.text import has_control_characters, visible

ADMIN_PROFESSION = "admin_staff"


@dataclass(frozen=True)
class ClientInfo:
    address: str
    user_agent: str | None


@dataclass(frozen=True)
class AuthContext:
    """What authentication needs from the request: its transaction and its surroundings."""

    session: AsyncSession
    settings: Settings
    hasher: PasswordHasher
    throttle: LoginThrottle
    client: ClientInfo

    def audit(self, action: str, denied_because: str | None = None, **fields: object) -> None:
        entry = AuditEntry(
            action=action,
            outcome=DENIED if denied_because else ALLOWED,
            reason=denied_because,
            client_address=self.client.address,
            **fields,  # type: ignore[arg-type]
        )
        audit.record(self.session, entry)

    @classmethod
    def offline(cls, session: AsyncSession, settings: Settings, *, address: str) -> "AuthContext":
        """For work outside a request (the CLI, seeding): its own throttle, kept in memory."""
        return cls(
            session=session,
            settings=settings,
            hasher=password_hasher(settings),
            throttle=LoginThrottle(create_storage(None), settings),
            client=ClientInfo(address=address, user_agent=None),
        )


def login_stands(
    user: User, auth_session: AuthSession, *, now: datetime, token_version: int | None = None
) -> bool:
    """Whether a login still holds: the user active, the session neither revoked nor expired,
    and (for an access token) the token of the user's current version."""
    return (
        user.is_active
        and auth_session.revoked_at is None
        and auth_session.expires_at > now
        and (token_version is None or token_version == user.token_version)
    )


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: the user and the login session of their token."""

    user: User
    session_id: int


@lru_cache(maxsize=4)
def _dummy_hash(hasher: PasswordHasher) -> str:
    return hasher.hash("an unknown user's password is checked against this")


async def login(
    ctx: AuthContext, *, username: str, password: str, totp_code: str | None
) -> TokenPair:
    user = await authenticate(ctx, username=username, password=password, totp_code=totp_code)
    return await _start_session(ctx, user)


async def authenticate(
    ctx: AuthContext, *, username: str, password: str, totp_code: str | None
) -> User:
    """The user these credentials prove, or a typed refusal (throttled, invalid, TOTP)."""
    account = username.strip().lower()
    # No stored name holds a control character: such a name is a failed login like any
    # unknown one, counted and audited with the characters made visible.
    lookable = not has_control_characters(account)
    account = account if lookable else visible(account)
    await ensure_not_throttled(ctx, account, action="auth.login")
    user = await repository.get_user_by_username(ctx.session, account) if lookable else None
    # An unknown user costs one argon2id verification too, so timing tells nothing.
    stored_hash = user.password_hash if user is not None else _dummy_hash(ctx.hasher)
    password_ok = await verify_password(ctx.hasher, stored_hash, password)
    if user is None or not password_ok or not user.is_active:
        await record_failure(ctx, account, user, "invalid-credentials")
        raise InvalidCredentialsError()
    if needs_rehash(ctx.hasher, user.password_hash):
        user.password_hash = await hash_password(ctx.hasher, password)
    if user.totp_enabled:
        await _check_login_totp(ctx, account, user, totp_code)
    return await _logged_in(ctx, user)


async def authenticate_second_factor(ctx: AuthContext, *, user_id: int, code: str) -> User:
    """The second step of a two-step sign-in (the web's), after the password was proven."""
    user = await repository.get_user(ctx.session, user_id)
    if user is None or not user.is_active or not user.totp_enabled:
        raise InvalidCredentialsError()
    await ensure_not_throttled(ctx, user.username, action="auth.login")
    await _check_login_totp(ctx, user.username, user, code)
    return await _logged_in(ctx, user)


async def _logged_in(ctx: AuthContext, user: User) -> User:
    await ctx.throttle.record_success(account=user.username, address=ctx.client.address)
    ctx.audit("auth.login", actor_id=user.id, target_user_id=user.id)
    return user


async def _check_login_totp(
    ctx: AuthContext, account: str, user: User, totp_code: str | None
) -> None:
    if totp_code is None:
        ctx.audit("auth.login", "totp-required", target_user_id=user.id)
        raise TotpRequiredError(
            "This account needs a TOTP code from its authenticator app.", user_id=user.id
        )
    if not await accept_totp_code(ctx, user, totp_code):
        await record_failure(ctx, account, user, "totp-invalid")
        raise TotpInvalidError("The TOTP code is wrong, expired or already used.")


async def accept_totp_code(ctx: AuthContext, user: User, code: str) -> bool:
    """Check a code against the user's secret and spend its time step."""
    secret = _totp_secret(ctx, user)
    if secret is None:
        return False
    step = totp.matching_step(secret, code, last_used_step=user.totp_last_used_step)
    return step is not None and await repository.claim_totp_step(ctx.session, user.id, step)


def _totp_secret(ctx: AuthContext, user: User) -> str | None:
    if user.totp_secret_encrypted is None:
        return None
    return decrypt_totp_secret(
        ctx.settings.secret_key.get_secret_value(), user.totp_secret_encrypted
    )


async def ensure_not_throttled(ctx: AuthContext, account: str, *, action: str) -> None:
    if throttled := await ctx.throttle.check(account=account, address=ctx.client.address):
        ctx.audit(action, "throttled", details={"username": account})
        raise TooManyRequestsError(throttled.retry_after_seconds)


async def record_failure(ctx: AuthContext, account: str, user: User | None, reason: str) -> None:
    """A wrong password or code: it counts towards throttling and is audited."""
    await ctx.throttle.record_failure(account=account, address=ctx.client.address)
    ctx.audit(
        "auth.failure",
        reason,
        actor_id=user.id if user else None,
        target_user_id=user.id if user else None,
        details={"username": account},
    )


async def _start_session(ctx: AuthContext, user: User) -> TokenPair:
    now = utc_now()
    lifetime = timedelta(days=ctx.settings.refresh_token_days)
    auth_session = await _add_session(ctx, user, now, lifetime)
    return await _issue_tokens(ctx, user, auth_session.id, now)


async def _add_session(
    ctx: AuthContext,
    user: User,
    now: datetime,
    lifetime: timedelta,
    web_token_hash: str | None = None,
) -> AuthSession:
    return await repository.add_session(
        ctx.session,
        AuthSession(
            user_id=user.id,
            created_at=now,
            last_used_at=now,
            expires_at=now + lifetime,
            client_address=ctx.client.address,
            user_agent=(ctx.client.user_agent or "")[:300] or None,
            web_token_hash=web_token_hash,
        ),
    )


async def _issue_tokens(ctx: AuthContext, user: User, session_id: int, now: datetime) -> TokenPair:
    refresh_token = new_refresh_token()
    await repository.add_refresh_token(
        ctx.session, session_id=session_id, token_hash=hash_refresh_token(refresh_token)
    )
    lifetime = timedelta(minutes=ctx.settings.access_token_minutes)
    access_token = issue_access_token(
        AccessClaims(user_id=user.id, session_id=session_id, token_version=user.token_version),
        secret=ctx.settings.secret_key.get_secret_value(),
        algorithm=ctx.settings.jwt_algorithm,
        now=now,
        lifetime=lifetime,
    )
    return TokenPair(
        access_token=access_token,
        refresh_token=refresh_token,
        expires_in=int(lifetime.total_seconds()),
    )


async def refresh(ctx: AuthContext, refresh_token: str) -> TokenPair:
    found = await repository.find_refresh_token(ctx.session, hash_refresh_token(refresh_token))
    if found is None:
        raise InvalidTokenError("The refresh token is not valid.")
    token, auth_session, user = found
    now = utc_now()
    if not await repository.spend_refresh_token(ctx.session, token.id, now):
        await repository.revoke_sessions(
            ctx.session, user_id=user.id, session_id=auth_session.id, reason="token-reuse", now=now
        )
        ctx.audit(
            "auth.refresh_token_reuse", "token-reuse", target_user_id=user.id,
            details={"session_id": auth_session.id},
        )  # fmt: skip
        raise RefreshTokenReusedError()
    if not login_stands(user, auth_session, now=now):
        raise InvalidTokenError("The session of this refresh token has ended.")
    auth_session.last_used_at = now
    return await _issue_tokens(ctx, user, auth_session.id, now)


async def logout(ctx: AuthContext, principal: Principal) -> None:
    await repository.revoke_sessions(
        ctx.session,
        user_id=principal.user.id,
        session_id=principal.session_id,
        reason="logout",
        now=utc_now(),
    )
    ctx.audit("auth.logout", actor_id=principal.user.id, target_user_id=principal.user.id)


async def list_sessions(ctx: AuthContext, principal: Principal) -> list[SessionRead]:
    sessions = await repository.live_sessions(ctx.session, principal.user.id, utc_now())
    return [
        SessionRead(
            id=item.id,
            created_at=item.created_at,
            last_used_at=item.last_used_at,
            expires_at=item.expires_at,
            client_address=item.client_address,
            user_agent=item.user_agent,
            current=item.id == principal.session_id,
        )
        for item in sessions
    ]


async def end_session(ctx: AuthContext, principal: Principal, session_id: int) -> None:
    live_ids = {
        item.id
        for item in await repository.live_sessions(ctx.session, principal.user.id, utc_now())
    }
    if session_id not in live_ids:
        raise NotFoundError("No such session.")
    await repository.revoke_sessions(
        ctx.session, user_id=principal.user.id, session_id=session_id, reason="ended", now=utc_now()
    )
    ctx.audit("auth.session_end", actor_id=principal.user.id, details={"session_id": session_id})


async def end_all_sessions(ctx: AuthContext, user: User, *, reason: str) -> None:
    """End every session of the user at once, access tokens included (their version dies)."""
    user.token_version += 1
    await repository.revoke_sessions(ctx.session, user_id=user.id, reason=reason, now=utc_now())


async def change_password(
    ctx: AuthContext, principal: Principal, *, current_password: str, new_password: str
) -> None:
    user = principal.user
    account = user.username
    await ensure_not_throttled(ctx, account, action="auth.password_change")
    if not await verify_password(ctx.hasher, user.password_hash, current_password):
        await record_failure(ctx, account, user, "password-change-wrong-password")
        raise InvalidCredentialsError()
    check_new_password(new_password, field="new_password")
    if new_password == current_password:
        raise InvalidInputError(
            "The new password must differ from the current one.", field=("body", "new_password")
        )
    user.password_hash = await hash_password(ctx.hasher, new_password)
    await end_all_sessions(ctx, user, reason="password-change")
    ctx.audit("auth.password_change", actor_id=user.id, target_user_id=user.id)


async def create_superadmin(
    ctx: AuthContext, *, username: str, email: str, password: str, full_name: str
) -> User:
    check_new_password(password)
    username = username.strip().lower()
    existing = await repository.find_user_by_username_or_email(
        ctx.session, username=username, email=email.strip().lower()
    )
    if existing is not None:
        raise ConflictError("A user with that username or email already exists.")
    user = await repository.add_user(
        ctx.session,
        User(
            username=username,
            email=email.strip().lower(),
            full_name=full_name,
            password_hash=await hash_password(ctx.hasher, password),
            system_permissions=SystemPermission.SUPERADMIN,
            base_profession=ADMIN_PROFESSION,
        ),
    )
    ctx.audit("users.create", target_user_id=user.id, details={"via": "cli"})
    return user


async def describe(ctx: AuthContext, user: User) -> MeRead:
    """The caller as access sees them: the competencies and patient link that are in force."""
    memberships = await directory.staff_memberships_of(ctx.session, user.id)
    actor = access.actor_of(user)
    return MeRead(
        id=user.id,
        username=user.username,
        full_name=user.full_name,
        email=user.email,
        system_permissions=user.system_permissions,
        base_profession=user.base_profession,
        competencies=sorted(actor.competencies),
        organisations=[
            OrganisationMembershipRead(
                id=organisation.id, name=organisation.name, is_primary=primary
            )
            for organisation, primary in memberships
        ],
        fhir_patient_id=actor.patient_id,
        totp_enabled=user.totp_enabled,
    )


async def users_by_ids(session: AsyncSession, user_ids: list[int]) -> list[User]:
    return await repository.users_by_ids(session, user_ids)


async def portal_user_of(session: AsyncSession, patient_id: str) -> User | None:
    """The active login of a patient for the portal, if they have one."""
    return await repository.portal_user_of(session, patient_id)


async def start_browser_session(ctx: AuthContext, user: User) -> str:
    """A login session for a browser; answers the cookie value (kept here only as a hash)."""
    token = new_refresh_token()
    lifetime = timedelta(hours=ctx.settings.browser_session_hours)
    await _add_session(ctx, user, utc_now(), lifetime, web_token_hash=hash_refresh_token(token))
    return token


async def browser_principal(session: AsyncSession, token: str) -> Principal | None:
    found = await repository.browser_session(session, hash_refresh_token(token))
    if found is None:
        return None
    auth_session, user = found
    if not login_stands(user, auth_session, now=utc_now()):
        return None
    return Principal(user=user, session_id=auth_session.id)
