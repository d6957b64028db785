"""One error shape for every failure: RFC 9457 problem+json.

Services raise `AppError` subclasses; the handlers here render them. Nothing
below the router raises `HTTPException`, and no response ever carries a stack
trace or the text of a clinical message.
"""

import logging
import traceback
from collections.abc import Callable, Mapping, Sequence
from http import HTTPStatus
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:parley:problem:"

logger = logging.getLogger(__name__)


def problem_type(slug: str) -> str:
    return f"{PROBLEM_TYPE_PREFIX}{slug}"


class AppError(Exception):
    """A failure the client should hear about, with its status and problem type."""

    status: ClassVar[int] = HTTPStatus.BAD_REQUEST
    slug: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Bad request"
    # True for failures whose own record must survive them: the audit row of a
    # failed login, the revocation after a refresh token was reused. The service
    # that raises one must have written nothing else.
    keeps_changes: ClassVar[bool] = False

    def __init__(
        self,
        detail: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        extensions: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.headers = headers or {}
        self.extensions = extensions or {}


class NotFoundError(AppError):
    status = HTTPStatus.NOT_FOUND
    slug = "not-found"
    title = "Not found"


class ConflictError(AppError):
    status = HTTPStatus.CONFLICT
    slug = "conflict"
    title = "Conflict"


class ForbiddenError(AppError):
    status = HTTPStatus.FORBIDDEN
    slug = "forbidden"
    title = "Forbidden"


class UnauthorizedError(AppError):
    status = HTTPStatus.UNAUTHORIZED
    slug = "unauthorized"
    title = "Authentication required"

    def __init__(self, detail: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(detail, **kwargs)


class InvalidInputError(AppError):
    """Input that parsed but breaks a rule; `errors` names the fields at fault."""

    status = HTTPStatus.UNPROCESSABLE_ENTITY
    slug = "validation-error"
    title = "Invalid input"

    def __init__(self, detail: str, *, field: Sequence[str | int] | None = None) -> None:
        errors = [{"loc": list(field), "msg": detail}] if field else []
        super().__init__(detail, extensions={"errors": errors} if errors else None)


class PayloadTooLargeError(AppError):
    status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    slug = "payload-too-large"
    title = "Too large"


class TooManyRequestsError(AppError):
    status = HTTPStatus.TOO_MANY_REQUESTS
    slug = "too-many-attempts"
    title = "Too many attempts"
    keeps_changes = True

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(
            f"Too many failed attempts; try again in {retry_after_seconds} seconds.",
            headers={"Retry-After": str(retry_after_seconds)},
        )


class ServiceUnavailableError(AppError):
    status = HTTPStatus.SERVICE_UNAVAILABLE
    slug = "service-unavailable"
    title = "A service Parley depends on is unavailable"


def problem_response(
    *,
    status: int,
    slug: str,
    title: str,
    detail: str,
    headers: Mapping[str, str] | None = None,
    extensions: dict[str, Any] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": problem_type(slug),
        "title": title,
        "status": status,
        "detail": detail,
        **(extensions or {}),
    }
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_CONTENT_TYPE)


# Paths that are the API (problem+json); everything else is a web page, whose errors are pages.
API_PREFIXES = ("/api/", "/health", "/ready", "/metrics", "/openapi.json", "/docs")
PageErrorRenderer = Callable[[Request, int, str, Exception], Response]


def _page_renderer(request: Request) -> PageErrorRenderer | None:
    if request.url.path.startswith(API_PREFIXES):
        return None
    renderer: PageErrorRenderer | None = getattr(request.app.state, "render_page_error", None)
    return renderer


async def _app_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    if renderer := _page_renderer(request):
        return renderer(request, exc.status, exc.detail, exc)
    return problem_response(
        status=exc.status,
        slug=exc.slug,
        title=exc.title,
        detail=exc.detail,
        headers=exc.headers,
        extensions=exc.extensions,
    )


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    if renderer := _page_renderer(request):
        return renderer(request, 422, "Some of what was sent is not valid.", exc)
    # Echo where and why, never the submitted value: it may be a password.
    errors = [
        {"loc": list(error.get("loc", ())), "msg": error.get("msg", ""), "type": error.get("type")}
        for error in exc.errors()
    ]
    fields = ", ".join(".".join(str(part) for part in error["loc"]) for error in errors)
    return problem_response(
        status=HTTPStatus.UNPROCESSABLE_ENTITY,
        slug="validation-error",
        title="Invalid input",
        detail=f"Invalid or missing fields: {fields}" if fields else "Invalid input",
        extensions={"errors": errors},
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    status = HTTPStatus(exc.status_code)
    if renderer := _page_renderer(request):
        return renderer(request, status, status.phrase, exc)
    slug = status.phrase.lower().replace(" ", "-")
    detail = exc.detail if isinstance(exc.detail, str) else status.description
    return problem_response(
        status=status, slug=slug, title=status.phrase, detail=detail, headers=exc.headers
    )


async def _unexpected_error(_request: Request, exc: Exception) -> JSONResponse:
    # The type and where it was raised, never the message: a driver's message can quote the
    # row it refused (message text, a patient's name). The request id is on every line.
    logger.error("unhandled error: %s", type(exc).__name__, extra={"stack": where_raised(exc)})
    return problem_response(
        status=HTTPStatus.INTERNAL_SERVER_ERROR,
        slug="internal-error",
        title="Internal server error",
        detail="Something went wrong on our side. The request id identifies it in our logs.",
    )


async def _database_unavailable(_request: Request, exc: Exception) -> JSONResponse:
    logger.error("database unavailable: %s", type(exc).__name__)
    return problem_response(
        status=HTTPStatus.SERVICE_UNAVAILABLE,
        slug="database-unavailable",
        title="The database is unavailable",
        detail="Nothing was saved. Try again shortly (with the same Idempotency-Key).",
        headers={"Retry-After": "5"},
    )


async def _database_conflict(_request: Request, exc: Exception) -> JSONResponse:
    logger.warning("integrity conflict: %s", type(exc).__name__)
    return problem_response(
        status=HTTPStatus.CONFLICT,
        slug="conflict",
        title="Conflict",
        detail="The change conflicts with another one made at the same time; nothing was saved.",
    )


def where_raised(exc: BaseException) -> list[str]:
    """The frames an exception passed through, as `file:line in function`, and no values."""
    return [
        f"{frame.filename}:{frame.lineno} in {frame.name}"
        for frame in traceback.extract_tb(exc.__traceback__)
    ]


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(OperationalError, _database_unavailable)
    app.add_exception_handler(IntegrityError, _database_conflict)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
