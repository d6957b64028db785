"""Who is browsing: the session cookie turned into a Principal; forms checked for CSRF."""

from typing import Annotated

from fastapi import Depends, Request

from app.access import service as access
from app.access.actions import Action
from app.access.policy import Actor
from app.auth import service as auth_service
from app.auth.service import Principal
from app.dependencies import SessionDep, SettingsDep
from app.errors import AppError, ForbiddenError
from app.web.sessions import SESSION_COOKIE, csrf_valid
from app.web.templating import remember_viewer


class SignInRequired(AppError):
    """Not an error for a browser: the handler sends it to the sign-in page."""

    status = 303
    slug = "sign-in-required"
    title = "Sign in"


async def get_web_principal(request: Request, session: SessionDep) -> Principal:
    token = request.cookies.get(SESSION_COOKIE)
    principal = await auth_service.browser_principal(session, token) if token else None
    if principal is None:
        raise SignInRequired()
    request.state.principal = principal
    request.state.user_id = principal.user.id
    remember_viewer(request, principal.user)
    return principal


WebPrincipal = Annotated[Principal, Depends(get_web_principal)]


async def get_web_actor(principal: WebPrincipal) -> Actor:
    return access.actor_of(principal.user)


WebActor = Annotated[Actor, Depends(get_web_actor)]


async def check_csrf(request: Request, settings: SettingsDep, _: WebPrincipal) -> None:
    """Every state-changing form carries the session's CSRF token; a forged one is refused."""
    form = await request.form()
    submitted = form.get("csrf_token")
    token = request.cookies.get(SESSION_COOKIE, "")
    if not csrf_valid(settings, token, submitted if isinstance(submitted, str) else None):
        raise ForbiddenError("The form was not sent by this session (CSRF token missing or wrong).")


CsrfChecked = Depends(check_csrf)


async def open_administration(actor: WebActor, session: SessionDep) -> None:
    """The administration pages are for admins (`app.access` says who): a gate in front of
    each service's own rule, so that a clinician whom the API lets manage a group still
    meets no admin page."""
    await access.authorize(session, actor, Action.ADMINISTRATION_OPEN)


AdminOnly = Depends(open_administration)
