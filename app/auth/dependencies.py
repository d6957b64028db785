"""Who is calling: the bearer token turned into a Principal, on every request, from the database.

The access token alone is never trusted: the user must still be active, still at
the token's version (bumped by deactivation and password changes), and the
login session must not be revoked or expired.
"""

from typing import Annotated

from argon2 import PasswordHasher
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.access import service as access
from app.access.policy import Actor
from app.accounts import repository
from app.auth.errors import InvalidTokenError
from app.auth.service import AuthContext, ClientInfo, Principal, login_stands
from app.auth.throttle import LoginThrottle
from app.auth.tokens import decode_access_token
from app.db import utc_now
from app.dependencies import SessionDep, SettingsDep
from app.errors import UnauthorizedError
from app.text import visible

bearer_scheme = HTTPBearer(auto_error=False, description="An access token from /auth/login.")


async def get_client_info(request: Request) -> ClientInfo:
    address = request.client.host if request.client else "unknown"
    agent = request.headers.get("user-agent")
    # Shown back to the user among their sessions: printable, and of a sensible length.
    return ClientInfo(address=address, user_agent=visible(agent)[:300] if agent else None)


async def get_auth_context(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    client: Annotated[ClientInfo, Depends(get_client_info)],
) -> AuthContext:
    hasher: PasswordHasher = request.app.state.password_hasher
    throttle: LoginThrottle = request.app.state.login_throttle
    return AuthContext(
        session=session, settings=settings, hasher=hasher, throttle=throttle, client=client
    )


AuthContextDep = Annotated[AuthContext, Depends(get_auth_context)]


async def get_principal(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Principal:
    if credentials is None:
        raise UnauthorizedError("Send an access token: Authorization: Bearer <token>.")
    claims = decode_access_token(
        credentials.credentials,
        secret=settings.secret_key.get_secret_value(),
        algorithm=settings.jwt_algorithm,
    )
    if claims is None:
        raise InvalidTokenError("The access token is not valid or has expired.")
    found = await repository.load_principal(
        session, user_id=claims.user_id, session_id=claims.session_id
    )
    if found is None:
        raise InvalidTokenError("The access token is not valid or has expired.")
    user, auth_session = found
    if not login_stands(user, auth_session, now=utc_now(), token_version=claims.token_version):
        raise InvalidTokenError("This session has ended; log in again.")
    request.state.user_id = user.id  # for the access log
    return Principal(user=user, session_id=auth_session.id)


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


async def get_actor(principal: CurrentPrincipal) -> Actor:
    """The caller as access sees them, for routers to hand to services (which decide)."""
    return access.actor_of(principal.user)


ActorDep = Annotated[Actor, Depends(get_actor)]
