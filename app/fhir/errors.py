"""Typed failures of the FHIR gateway; `OperationOutcome`s and transport errors become these."""

from http import HTTPStatus

from app.errors import AppError, ConflictError, NotFoundError, ServiceUnavailableError


class FhirError(AppError):
    """Base of every gateway failure."""


class FhirNotFoundError(FhirError, NotFoundError):
    slug = "fhir-not-found"
    title = "FHIR resource not found"


class FhirConflictError(FhirError, ConflictError):
    """A version conflict (a stale If-Match: 409 on HAPI, 412 elsewhere), or an
    ambiguous conditional create (several resources match)."""

    slug = "fhir-conflict"
    title = "FHIR resource conflict"


class FhirInvalidError(FhirError):
    """The server refused a resource Parley built: a bug on our side, not the caller's."""

    status = HTTPStatus.BAD_GATEWAY
    slug = "fhir-invalid"
    title = "The FHIR server refused the resource"


class FhirUnavailableError(FhirError, ServiceUnavailableError):
    """The server could not be reached, timed out, failed, or answered nonsense."""

    slug = "fhir-unavailable"
    title = "The FHIR server is unavailable"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail, headers={"Retry-After": "5"})
