"""Access tokens (short-lived JWTs) and refresh tokens (opaque, stored hashed)."""

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

from app.auth.keys import token_signing_key

ISSUER = "parley"


@dataclass(frozen=True)
class AccessClaims:
    user_id: int
    session_id: int
    token_version: int


def issue_access_token(
    claims: AccessClaims, *, secret: str, algorithm: str, now: datetime, lifetime: timedelta
) -> str:
    payload = {
        "iss": ISSUER,
        "sub": str(claims.user_id),
        "sid": claims.session_id,
        "ver": claims.token_version,
        "jti": uuid.uuid4().hex,
        "iat": now,
        "exp": now + lifetime,
    }
    return jwt.encode(payload, token_signing_key(secret), algorithm=algorithm)


def decode_access_token(token: str, *, secret: str, algorithm: str) -> AccessClaims | None:
    """The claims of a valid, unexpired token that we signed; None for anything else."""
    try:
        payload = jwt.decode(
            token,
            token_signing_key(secret),
            algorithms=[algorithm],
            issuer=ISSUER,
            options={"require": ["sub", "sid", "ver", "jti", "iat", "exp"]},
        )
        return AccessClaims(
            user_id=int(payload["sub"]),
            session_id=int(payload["sid"]),
            token_version=int(payload["ver"]),
        )
    except (jwt.InvalidTokenError, ValueError, TypeError):
        return None


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)  # 256 bits


def hash_refresh_token(token: str) -> str:
    # A fast hash is right here: the token has 256 random bits, nothing to brute-force.
    return hashlib.sha256(token.encode()).hexdigest()
