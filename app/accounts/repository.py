from datetime import datetime

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import AuthSession, RefreshToken, User


async def get_user(session: AsyncSession, user_id: int) -> User | None:
    return await session.get(User, user_id)


async def get_user_by_username(session: AsyncSession, username: str) -> User | None:
    return await session.scalar(select(User).where(User.username == username))


async def find_user_by_username_or_email(
    session: AsyncSession, *, username: str, email: str
) -> User | None:
    statement = select(User).where(or_(User.username == username, User.email == email))
    return (await session.scalars(statement)).first()


async def add_user(session: AsyncSession, user: User) -> User:
    session.add(user)
    await session.flush()
    return user


async def claim_totp_step(session: AsyncSession, user_id: int, step: int) -> bool:
    """Record `step` as used, unless it (or a later one) already was: one winner per code."""
    result = await session.execute(
        update(User)
        .where(
            User.id == user_id,
            or_(User.totp_last_used_step.is_(None), User.totp_last_used_step < step),
        )
        .values(totp_last_used_step=step)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


# Every authenticated request runs this: built once, as building it costs more than running it.
_PRINCIPAL = (
    select(User, AuthSession)
    .join(AuthSession, AuthSession.user_id == User.id)
    .where(User.id == bindparam("principal_user"), AuthSession.id == bindparam("principal_session"))
)


async def load_principal(
    session: AsyncSession, *, user_id: int, session_id: int
) -> tuple[User, AuthSession] | None:
    parameters = {"principal_user": user_id, "principal_session": session_id}
    row = (await session.execute(_PRINCIPAL, parameters)).first()
    return (row[0], row[1]) if row else None


async def add_session(session: AsyncSession, auth_session: AuthSession) -> AuthSession:
    session.add(auth_session)
    await session.flush()
    return auth_session


async def add_refresh_token(session: AsyncSession, *, session_id: int, token_hash: str) -> None:
    session.add(RefreshToken(session_id=session_id, token_hash=token_hash))
    await session.flush()


async def find_refresh_token(
    session: AsyncSession, token_hash: str
) -> tuple[RefreshToken, AuthSession, User] | None:
    row = (
        await session.execute(
            select(RefreshToken, AuthSession, User)
            .join(AuthSession, RefreshToken.session_id == AuthSession.id)
            .join(User, AuthSession.user_id == User.id)
            .where(RefreshToken.token_hash == token_hash)
        )
    ).first()
    return (row[0], row[1], row[2]) if row else None


async def spend_refresh_token(session: AsyncSession, token_id: int, now: datetime) -> bool:
    """Mark the token used; False if someone already did (it is being reused)."""
    result = await session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == token_id, RefreshToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def revoke_sessions(
    session: AsyncSession,
    *,
    user_id: int,
    reason: str,
    now: datetime,
    session_id: int | None = None,
) -> None:
    """Revoke one of the user's sessions, or all of them when no id is given."""
    statement = update(AuthSession).where(
        AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None)
    )
    if session_id is not None:
        statement = statement.where(AuthSession.id == session_id)
    await session.execute(
        statement.values(revoked_at=now, revoked_reason=reason).execution_options(
            synchronize_session=False
        )
    )


async def live_sessions(session: AsyncSession, user_id: int, now: datetime) -> list[AuthSession]:
    statement = (
        select(AuthSession)
        .where(
            AuthSession.user_id == user_id,
            AuthSession.revoked_at.is_(None),
            AuthSession.expires_at > now,
        )
        .order_by(AuthSession.last_used_at.desc())
    )
    return list(await session.scalars(statement))


async def users_by_ids(session: AsyncSession, user_ids: list[int]) -> list[User]:
    return list(await session.scalars(select(User).where(User.id.in_(user_ids)).order_by(User.id)))


async def portal_user_of(session: AsyncSession, patient_id: str) -> User | None:
    return await session.scalar(
        select(User).where(User.fhir_patient_id == patient_id, User.is_active.is_(True))
    )


async def browser_session(
    session: AsyncSession, token_hash: str
) -> tuple[AuthSession, User] | None:
    row = (
        await session.execute(
            select(AuthSession, User)
            .join(User, AuthSession.user_id == User.id)
            .where(AuthSession.web_token_hash == token_hash)
        )
    ).first()
    return (row[0], row[1]) if row else None
