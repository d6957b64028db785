"""Signing in (password, then TOTP when it is on), signing out, and one's own account."""

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.accounts.models import User
from app.auth import service as auth_service
from app.auth import totp_service
from app.auth.dependencies import AuthContextDep
from app.auth.errors import TotpRequiredError
from app.auth.service import AuthContext
from app.config import Settings
from app.dependencies import SettingsDep
from app.errors import AppError
from app.web import sessions
from app.web.dependencies import CsrfChecked, WebPrincipal
from app.web.forms import field_errors
from app.web.templating import render

router = APIRouter(include_in_schema=False)

Text = Annotated[str, Form(max_length=1024)]


def _safe_next(target: str) -> str:
    """Only a path on this site: the sign-in page must not be an open redirect.

    Browsers read a backslash as a slash, so "/\\evil.example" would leave the site too.
    """
    on_this_site = target.startswith("/") and not target.startswith("//")
    if not on_this_site or "\\" in target or not target.isprintable():
        return "/"
    return target


def _sign_in_page(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    token = sessions.login_csrf(request)
    context = {"errors": {}, "username": "", "next": "/"} | context
    response = render(
        request, template, status_code=status, title="Sign in", login_csrf=token, **context
    )
    sessions.set_login_csrf(request, response, token)
    return response


async def _signed_in(
    request: Request, ctx: AuthContext, settings: Settings, user: User, target: str
) -> Response:
    token = await auth_service.start_browser_session(ctx, user)
    response = RedirectResponse(target, status_code=303)
    sessions.set_session(request, response, token, hours=settings.browser_session_hours)
    sessions.clear(response, sessions.PENDING_COOKIE)
    return response


@router.get("/login")
async def login_page(request: Request, next: str = "/") -> Response:
    return _sign_in_page(request, "login.html", next=_safe_next(next))


@router.post("/login")
async def login(
    request: Request,
    ctx: AuthContextDep,
    settings: SettingsDep,
    username: Text = "",
    password: Text = "",
    login_csrf: Text = "",
    next: Text = "/",
) -> Response:
    target = _safe_next(next)
    if not sessions.login_csrf_valid(request, login_csrf):
        return _sign_in_page(
            request, "login.html", 403, errors={"_form": "Please sign in from this page."}
        )
    try:
        user = await auth_service.authenticate(
            ctx, username=username, password=password, totp_code=None
        )
    except TotpRequiredError as required:
        response = RedirectResponse(f"/login/totp?next={quote(target)}", status_code=303)
        sessions.set_pending(request, response, settings, required.user_id)
        return response
    except AppError as error:
        errors = {"_form": error.detail}
        return _sign_in_page(
            request, "login.html", error.status, errors=errors, username=username, next=target
        )
    return await _signed_in(request, ctx, settings, user, target)


@router.get("/login/totp")
async def totp_page(request: Request, settings: SettingsDep, next: str = "/") -> Response:
    if sessions.pending_user(request, settings) is None:
        return RedirectResponse("/login", status_code=303)
    return _sign_in_page(request, "login_totp.html", next=_safe_next(next))


@router.post("/login/totp")
async def totp_step(
    request: Request,
    ctx: AuthContextDep,
    settings: SettingsDep,
    code: Text = "",
    login_csrf: Text = "",
    next: Text = "/",
) -> Response:
    user_id = sessions.pending_user(request, settings)
    if user_id is None:
        return RedirectResponse("/login", status_code=303)
    if not sessions.login_csrf_valid(request, login_csrf):
        return _sign_in_page(
            request, "login_totp.html", 403, errors={"_form": "Please use this page."}
        )
    try:
        user = await auth_service.authenticate_second_factor(
            ctx, user_id=user_id, code=code.strip()
        )
    except AppError as error:
        return _sign_in_page(
            request,
            "login_totp.html",
            error.status,
            errors={"code": error.detail},
            next=_safe_next(next),
        )
    return await _signed_in(request, ctx, settings, user, _safe_next(next))


@router.post("/logout", dependencies=[CsrfChecked])
async def logout(principal: WebPrincipal, ctx: AuthContextDep) -> Response:
    await auth_service.logout(ctx, principal)
    response = RedirectResponse("/login", status_code=303)
    sessions.clear(response, sessions.SESSION_COOKIE)
    return response


@router.get("/account")
async def account(request: Request, principal: WebPrincipal) -> HTMLResponse:
    return render(request, "account.html", title="Your account", errors={}, setup=None)


@router.post("/account/totp/setup", dependencies=[CsrfChecked])
async def totp_setup(
    request: Request, principal: WebPrincipal, ctx: AuthContextDep
) -> HTMLResponse:
    setup = await totp_service.set_up(ctx, principal)
    return _enrolment(request, setup.secret, setup.otpauth_uri, {})


def _enrolment(
    request: Request, secret: str, uri: str, errors: dict[str, str], status: int = 200
) -> HTMLResponse:
    shown = {"secret": secret, "qr": totp_service.qr_data_uri(uri)}
    return render(
        request,
        "account.html",
        status_code=status,
        title="Your account",
        errors=errors,
        setup=shown,
    )


@router.post("/account/totp/enable", dependencies=[CsrfChecked])
async def totp_enable(
    request: Request, principal: WebPrincipal, ctx: AuthContextDep, code: Text = ""
) -> Response:
    try:
        await totp_service.enable(ctx, principal, code.strip())
    except AppError as error:
        secret, uri = totp_service.pending_secret(ctx, principal)
        return _enrolment(
            request, secret, uri, field_errors(error) | {"code": error.detail}, error.status
        )
    return render(
        request,
        "account.html",
        title="Your account",
        errors={},
        setup=None,
        flash="Two-step sign-in is on.",
    )
