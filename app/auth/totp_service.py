"""Turning TOTP on and off for oneself; an admin's reset lives with the users."""

from app.accounts.models import User
from app.auth import totp
from app.auth.errors import InvalidCredentialsError, TotpInvalidError
from app.auth.keys import decrypt_totp_secret, encrypt_totp_secret
from app.auth.passwords import verify_password
from app.auth.schemas import TotpSetupRead
from app.auth.service import (
    AuthContext,
    Principal,
    accept_totp_code,
    ensure_not_throttled,
    record_failure,
)
from app.errors import ConflictError


async def set_up(ctx: AuthContext, principal: Principal) -> TotpSetupRead:
    """A new secret, stored encrypted and not yet in force until a code proves it works."""
    user = principal.user
    if user.totp_enabled:
        raise ConflictError("TOTP is already on; turn it off before setting it up again.")
    secret = totp.new_secret()
    user.totp_secret_encrypted = encrypt_totp_secret(
        ctx.settings.secret_key.get_secret_value(), secret
    )
    uri = totp.provisioning_uri(secret, account_name=user.username)
    ctx.audit("auth.totp_setup", actor_id=user.id, target_user_id=user.id)
    return TotpSetupRead(secret=secret, otpauth_uri=uri, qr_svg=totp.qr_code_svg(uri))


async def enable(ctx: AuthContext, principal: Principal, code: str) -> None:
    user = principal.user
    if user.totp_enabled:
        raise ConflictError("TOTP is already on.")
    if user.totp_secret_encrypted is None:
        raise ConflictError("Set TOTP up first (POST /api/v1/auth/totp/setup).")
    await _require_code(ctx, user, code)
    user.totp_enabled = True
    ctx.audit("auth.totp_enable", actor_id=user.id, target_user_id=user.id)


async def disable(ctx: AuthContext, principal: Principal, *, password: str, code: str) -> None:
    user = principal.user
    if not user.totp_enabled:
        raise ConflictError("TOTP is not on.")
    await ensure_not_throttled(ctx, user.username, action="auth.totp_disable")
    if not await verify_password(ctx.hasher, user.password_hash, password):
        await record_failure(ctx, user.username, user, "totp-disable-wrong-password")
        raise InvalidCredentialsError()
    await _require_code(ctx, user, code)
    user.totp_enabled = False
    user.totp_secret_encrypted = None
    ctx.audit("auth.totp_disable", actor_id=user.id, target_user_id=user.id)


async def _require_code(ctx: AuthContext, user: User, code: str) -> None:
    await ensure_not_throttled(ctx, user.username, action="auth.totp")
    if not await accept_totp_code(ctx, user, code):
        await record_failure(ctx, user.username, user, "totp-invalid")
        raise TotpInvalidError("The TOTP code is wrong, expired or already used.")


def pending_secret(ctx: AuthContext, principal: Principal) -> tuple[str, str]:
    """The secret being set up (not yet on), and its otpauth URI, to show it again."""
    encrypted = principal.user.totp_secret_encrypted
    secret = (
        decrypt_totp_secret(ctx.settings.secret_key.get_secret_value(), encrypted)
        if encrypted
        else None
    )
    if secret is None:
        raise ConflictError("Set TOTP up first.")
    return secret, totp.provisioning_uri(secret, account_name=principal.user.username)


def qr_data_uri(uri: str) -> str:
    return totp.qr_code_data_uri(uri)
