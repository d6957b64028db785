"""The browser's cookies: the session, its CSRF token, and a sign-in half done (TOTP next)."""

import hashlib
import hmac
import secrets
import time

from fastapi import Request, Response

from app.auth.keys import derive_key
from app.config import Settings

SESSION_COOKIE = "parley_session"
PENDING_COOKIE = "parley_pending"
LOGIN_CSRF_COOKIE = "parley_login_csrf"
PENDING_SECONDS = 300


def _set(request: Request, response: Response, name: str, value: str, max_age: int | None) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )


def set_session(request: Request, response: Response, token: str, *, hours: int) -> None:
    _set(request, response, SESSION_COOKIE, token, hours * 3600)


def clear(response: Response, *names: str) -> None:
    for name in names:
        response.delete_cookie(name, path="/")


def _mac(settings: Settings, purpose: str, message: str) -> str:
    key = derive_key(settings.secret_key.get_secret_value(), purpose)
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def csrf_token(settings: Settings, session_token: str) -> str:
    """A token bound to this session: a page's forms carry it, a forged post cannot."""
    return _mac(settings, "csrf", session_token)


def same(known: str, given: str | None) -> bool:
    """A constant-time comparison that takes any text (compare_digest refuses non-ASCII
    strings with a TypeError, which a hostile cookie or form field would make a 500)."""
    return given is not None and hmac.compare_digest(known.encode(), given.encode())


def csrf_valid(settings: Settings, session_token: str, submitted: str | None) -> bool:
    return bool(submitted) and same(csrf_token(settings, session_token), submitted)


def login_csrf(request: Request) -> str:
    """Before there is a session: a random value in a cookie and in the form (double submit)."""
    return request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)


def set_login_csrf(request: Request, response: Response, value: str) -> None:
    _set(request, response, LOGIN_CSRF_COOKIE, value, 3600)


def login_csrf_valid(request: Request, submitted: str | None) -> bool:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE)
    return bool(cookie) and bool(submitted) and same(cookie or "", submitted)


def set_pending(request: Request, response: Response, settings: Settings, user_id: int) -> None:
    """The password was right; the user owes a TOTP code within five minutes."""
    expires = int(time.time()) + PENDING_SECONDS
    message = f"{user_id}:{expires}"
    _set(
        request,
        response,
        PENDING_COOKIE,
        f"{message}:{_mac(settings, 'pending', message)}",
        PENDING_SECONDS,
    )


def pending_user(request: Request, settings: Settings) -> int | None:
    value = request.cookies.get(PENDING_COOKIE, "")
    try:
        user_id, expires, mac = value.split(":")
    except ValueError:
        return None
    if not same(_mac(settings, "pending", f"{user_id}:{expires}"), mac):
        return None
    return int(user_id) if int(expires) > time.time() else None
