"""Jinja2 templates, with what every page needs: the signed-in user, their CSRF token."""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy.exc import SQLAlchemyError

from app.access.levels import at_least
from app.accounts.models import SystemPermission, User
from app.patients import nhs_number
from app.patients.service import age_on
from app.web import durations
from app.web.sessions import SESSION_COOKIE, csrf_token


def born(birth_date: date) -> str:
    """`3 Feb 1980 (46)`: the date a person says, and the age a clinician checks."""
    age = age_on(birth_date, datetime.now(UTC).date())
    return f"{birth_date.day} {birth_date.strftime('%b %Y')} ({age})"


TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
TEMPLATES.env.filters["nhs"] = nhs_number.shown
TEMPLATES.env.filters["born"] = born
TEMPLATES.env.filters["waited"] = durations.waited
STATIC_DIR = Path(__file__).parent / "static"
# What the pages may load and run: only themselves; never inline script.
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self' blob:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)


@dataclass(frozen=True)
class Viewer:
    """Who the page is for, as plain values: an error page renders after the request's
    transaction was rolled back, when the ORM's user can no longer be read."""

    id: int
    username: str
    full_name: str
    system_permissions: SystemPermission
    totp_enabled: bool

    @classmethod
    def of(cls, user: User) -> "Viewer":
        return cls(
            user.id, user.username, user.full_name, user.system_permissions, user.totp_enabled
        )


def remember_viewer(request: Request, user: User) -> None:
    request.state.viewer = Viewer.of(user)


def _viewer(request: Request) -> Viewer | None:
    principal = getattr(request.state, "principal", None)
    if principal is None:
        return None
    try:
        return Viewer.of(principal.user)  # fresh: the page may follow a change to the user
    except SQLAlchemyError:
        viewer: Viewer = request.state.viewer
        return viewer


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    principal = getattr(request.state, "principal", None)
    token = request.cookies.get(SESSION_COOKIE)
    user = _viewer(request)
    level = user.system_permissions if user is not None else None
    context |= {
        "user": user,
        "is_admin": level is not None and at_least(level, SystemPermission.ADMIN),
        "is_patient": level is SystemPermission.PATIENT,
        "csrf": csrf_token(request.app.state.settings, token) if token and principal else "",
    }
    response = TEMPLATES.TemplateResponse(request, template, context, status_code=status_code)
    response.headers["Content-Security-Policy"] = PAGE_POLICY
    return response
