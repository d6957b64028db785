from fastapi import APIRouter, status

from app.auth import service, totp_service
from app.auth.dependencies import AuthContextDep, CurrentPrincipal
from app.auth.schemas import (
    LoginRequest,
    MeRead,
    PasswordChange,
    RefreshRequest,
    SessionRead,
    TokenPair,
    TotpDisable,
    TotpEnable,
    TotpSetupRead,
)
from app.ids import BigPathId

public_router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


@public_router.post("/login")
async def login(body: LoginRequest, ctx: AuthContextDep) -> TokenPair:
    """Exchange username, password (and a TOTP code when on) for a token pair."""
    return await service.login(
        ctx, username=body.username, password=body.password, totp_code=body.totp_code
    )


@public_router.post("/refresh")
async def refresh(body: RefreshRequest, ctx: AuthContextDep) -> TokenPair:
    """Exchange a refresh token for a new pair; the old one is spent."""
    return await service.refresh(ctx, body.refresh_token)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(principal: CurrentPrincipal, ctx: AuthContextDep) -> None:
    """End the caller's session: its refresh tokens and access tokens stop working."""
    await service.logout(ctx, principal)


@router.get("/me")
async def me(principal: CurrentPrincipal, ctx: AuthContextDep) -> MeRead:
    """The caller."""
    return await service.describe(ctx, principal.user)


@router.post("/password", status_code=status.HTTP_204_NO_CONTENT)
async def change_password(
    body: PasswordChange, principal: CurrentPrincipal, ctx: AuthContextDep
) -> None:
    """Change one's password; every session ends, this one included."""
    await service.change_password(
        ctx, principal, current_password=body.current_password, new_password=body.new_password
    )


@router.post("/totp/setup")
async def totp_setup(principal: CurrentPrincipal, ctx: AuthContextDep) -> TotpSetupRead:
    """Start TOTP enrolment: a new secret, its otpauth URI and QR code (not yet in force)."""
    return await totp_service.set_up(ctx, principal)


@router.post("/totp/enable", status_code=status.HTTP_204_NO_CONTENT)
async def totp_enable(body: TotpEnable, principal: CurrentPrincipal, ctx: AuthContextDep) -> None:
    """Turn TOTP on with a first valid code."""
    await totp_service.enable(ctx, principal, body.code)


@router.post("/totp/disable", status_code=status.HTTP_204_NO_CONTENT)
async def totp_disable(body: TotpDisable, principal: CurrentPrincipal, ctx: AuthContextDep) -> None:
    """Turn TOTP off; needs the password and a valid code."""
    await totp_service.disable(ctx, principal, password=body.password, code=body.code)


@router.get("/sessions")
async def sessions(principal: CurrentPrincipal, ctx: AuthContextDep) -> list[SessionRead]:
    """The caller's live sessions."""
    return await service.list_sessions(ctx, principal)


@router.delete("/sessions/{session_id}", status_code=status.HTTP_204_NO_CONTENT)
async def end_session(
    session_id: BigPathId, principal: CurrentPrincipal, ctx: AuthContextDep
) -> None:
    """End one of the caller's sessions."""
    await service.end_session(ctx, principal, session_id)
