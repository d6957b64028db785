"""`HttpFhirGateway`: the FHIR protocol over HTTP against any FHIR R4 server (HAPI in production).

Its jobs beside the REST calls: connect and read timeouts, bounded retries with
backoff where a retry cannot create a second resource, and turning every kind of
failure into a typed `FhirError`. It never logs resource content.
"""

import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx
from fhir.resources.R4B.binary import Binary
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from app.config import DEVELOPMENT_FHIR_CANONICAL_URL
from app.fhir.binary import binary_content, build_binary
from app.fhir.canonical import CanonicalNames
from app.fhir.errors import (
    FhirConflictError,
    FhirError,
    FhirInvalidError,
    FhirNotFoundError,
    FhirUnavailableError,
)
from app.fhir.protocol import BinaryContent, Created, R, SearchParams, Token

logger = logging.getLogger(__name__)

FHIR_JSON = "application/fhir+json"
RETRY_ATTEMPTS = 3
# Statuses that say "try again shortly" rather than "this request is wrong".
TRANSIENT_STATUSES = frozenset({429, 502, 503, 504})
# Failures where the request cannot have reached the server's logic. A read
# timeout is not among them: the server may still be working on it, and the
# caller's own retry (with its idempotency key) is the safe way to find out.
TRANSIENT_ERRORS = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.RemoteProtocolError,
)


# Told of every call: method, resource type, outcome (status or error), seconds.
CallObserver = Callable[[str, str, str, float], None]


class _TransientFailure(Exception):
    """Internal: worth one more attempt, if the call may be repeated."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class HttpFhirGateway:
    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        names: CanonicalNames,
        on_call: CallObserver | None = None,
    ) -> None:
        self._client = client
        self._names = names
        self._on_call = on_call
        self._origin = _origin(str(client.base_url))

    @classmethod
    def connect(
        cls,
        base_url: str,
        *,
        connect_timeout: float,
        read_timeout: float,
        canonical_url: str = DEVELOPMENT_FHIR_CANONICAL_URL,
        transport: httpx.AsyncBaseTransport | None = None,
        on_call: CallObserver | None = None,
    ) -> "HttpFhirGateway":
        client = httpx.AsyncClient(
            base_url=base_url.rstrip("/") + "/",
            timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
            headers={"Accept": FHIR_JSON},
            transport=transport,
        )
        return cls(client, names=CanonicalNames(canonical_url), on_call=on_call)

    async def create(self, resource: R) -> R:
        response = await self._send(
            "POST", resource.get_resource_type(), json=self._document(resource), repeatable=False
        )
        return await self._resource_from_write(type(resource), response)

    async def create_if_none_exist(self, resource: R, *, identifier: Token) -> Created[R]:
        response = await self._send(
            "POST",
            resource.get_resource_type(),
            json=self._document(resource),
            headers={"If-None-Exist": f"identifier={self._names.either(identifier)}"},
            # Safe: the server matches on the identifier, so a repeat finds the first.
            repeatable=True,
            # HAPI answers 409 to the loser of two simultaneous conditional creates;
            # asked again, it finds the winner's resource.
            transient_statuses=TRANSIENT_STATUSES | {409},
        )
        created = await self._resource_from_write(type(resource), response)
        return Created(created, created=response.status_code == 201)

    async def read(self, model: type[R], resource_id: str) -> R:
        response = await self._send("GET", f"{model.get_resource_type()}/{resource_id}")
        return self._parse(model, response)

    async def update(self, resource: R, *, if_match: str) -> R:
        version = if_match.removeprefix("W/").strip('"')
        response = await self._send(
            "PUT",
            f"{resource.get_resource_type()}/{resource.id}",
            json=self._document(resource),
            headers={"If-Match": f'W/"{version}"'},
            repeatable=False,
        )
        return await self._resource_from_write(type(resource), response)

    async def search(
        self,
        model: type[R],
        params: SearchParams,
        *,
        on_invalid: Callable[[str | None], None] | None = None,
    ) -> AsyncIterator[R]:
        # Never answer from the server's search cache: callers search for what is there now.
        response = await self._send(
            "GET",
            model.get_resource_type(),
            params=self._names.search(params),
            headers={"Cache-Control": "no-cache"},
        )
        async for resource in self._follow_pages(model, response, on_invalid):
            yield resource

    async def history(self, model: type[R], resource_id: str) -> list[R]:
        response = await self._send("GET", f"{model.get_resource_type()}/{resource_id}/_history")
        return [resource async for resource in self._follow_pages(model, response)]

    async def put(self, resource: R) -> None:
        # A PUT to an id of our own creates or replaces: safe to repeat.
        path = f"{resource.get_resource_type()}/{resource.id}"
        await self._send("PUT", path, json=self._document(resource), repeatable=True)

    async def put_where(self, resource: R, params: SearchParams) -> None:
        document = self._document(resource)
        document.pop("id", None)  # the server keeps the id of the one it finds
        await self._send(
            "PUT",
            resource.get_resource_type(),
            json=document,
            params=self._names.search(params),
            repeatable=True,
        )

    async def put_binary(self, binary_id: str, content: BinaryContent) -> None:
        await self.put(build_binary(content, binary_id))

    async def read_binary(self, binary_id: str) -> BinaryContent:
        return binary_content(await self.read(Binary, binary_id))

    async def check(self) -> None:
        response = await self._send("GET", "metadata", params=[("_summary", "true")])
        _json_object(response, expected_type="CapabilityStatement")

    async def aclose(self) -> None:
        await self._client.aclose()

    def _observe(self, method: str, url: str, outcome: int | str, started: float) -> None:
        seconds = time.perf_counter() - started
        resource_type = _resource_type_of(url)
        _log_call(method, resource_type, str(outcome), seconds)
        if self._on_call is not None:
            self._on_call(method, resource_type, str(outcome), seconds)

    async def _follow_pages(
        self,
        model: type[R],
        response: httpx.Response,
        on_invalid: Callable[[str | None], None] | None = None,
    ) -> AsyncIterator[R]:
        while True:
            bundle = _json_object(response, expected_type="Bundle")
            for entry in bundle.get("entry") or []:
                resource = entry.get("resource")
                mode = (entry.get("search") or {}).get("mode", "match")
                if resource is None or mode != "match":
                    continue
                try:
                    valid = self._validate(model, resource)
                except FhirUnavailableError:
                    if on_invalid is None:
                        raise
                    on_invalid(str(resource.get("id")) if isinstance(resource, dict) else None)
                    continue
                yield valid
            next_url = _next_link(bundle)
            if next_url is None:
                return
            if _origin(next_url) != self._origin:
                raise FhirUnavailableError("The FHIR server sent a next link to another host.")
            response = await self._send("GET", next_url, headers={"Cache-Control": "no-cache"})

    def _document(self, resource: Any) -> dict[str, Any]:
        document: dict[str, Any] = self._names.to_server(resource.model_dump(mode="json"))
        return document

    def _validate(self, model: type[R], document: dict[str, Any]) -> R:
        try:
            return model.model_validate(self._names.from_server(document))
        except ValueError:
            raise FhirUnavailableError(
                f"The FHIR server answered an invalid {model.get_resource_type()}."
            ) from None

    def _parse(self, model: type[R], response: httpx.Response) -> R:
        return self._validate(
            model, _json_object(response, expected_type=model.get_resource_type())
        )

    async def _resource_from_write(self, model: type[R], response: httpx.Response) -> R:
        if response.content:
            return self._parse(model, response)
        # A server that honours Prefer: return=minimal (or ignores Prefer) answers no body.
        location = response.headers.get("Location") or response.headers.get("Content-Location")
        if not location:
            raise FhirUnavailableError("The FHIR server answered a write without the resource.")
        resource_id = location.split("/_history/")[0].rstrip("/").rsplit("/", 1)[-1]
        return await self.read(model, resource_id)

    async def _send(
        self,
        method: str,
        url: str,
        *,
        json: Mapping[str, Any] | None = None,
        params: list[tuple[str, str]] | None = None,
        headers: Mapping[str, str] | None = None,
        repeatable: bool = True,
        transient_statuses: frozenset[int] = TRANSIENT_STATUSES,
    ) -> httpx.Response:
        request_headers = dict(headers or {})
        if json is not None:
            request_headers |= {"Content-Type": FHIR_JSON, "Prefer": "return=representation"}
        retrying = AsyncRetrying(
            stop=stop_after_attempt(RETRY_ATTEMPTS if repeatable else 1),
            wait=wait_exponential_jitter(multiplier=0.1, max=1.0, jitter=0.1),
            retry=retry_if_exception_type(_TransientFailure),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await self._send_once(
                        method, url, json, params, request_headers, transient_statuses
                    )
        except _TransientFailure as failure:
            raise FhirUnavailableError(failure.reason) from None
        raise AssertionError("unreachable: tenacity either returns or re-raises")

    async def _send_once(
        self,
        method: str,
        url: str,
        json: Mapping[str, Any] | None,
        params: list[tuple[str, str]] | None,
        headers: dict[str, str],
        transient_statuses: frozenset[int],
    ) -> httpx.Response:
        started = time.perf_counter()
        try:
            response = await self._client.request(
                method,
                url,
                json=json,
                params=tuple(params) if params else None,
                headers=headers,
            )
        except TRANSIENT_ERRORS as error:
            self._observe(method, url, type(error).__name__, started)
            raise _TransientFailure(
                f"The FHIR server cannot be reached ({type(error).__name__})."
            ) from error
        except httpx.TimeoutException as error:
            self._observe(method, url, type(error).__name__, started)
            raise FhirUnavailableError("The FHIR server did not answer in time.") from error
        except httpx.HTTPError as error:
            self._observe(method, url, type(error).__name__, started)
            raise FhirUnavailableError(f"The FHIR call failed ({type(error).__name__}).") from error
        self._observe(method, url, response.status_code, started)
        if response.status_code in transient_statuses:
            raise _TransientFailure(
                f"The FHIR server is unavailable (HTTP {response.status_code})."
            )
        if response.status_code >= 400:
            raise _error_for(response)
        return response


def _json_object(response: httpx.Response, *, expected_type: str) -> dict[str, Any]:
    try:
        document = response.json()
    except ValueError:
        raise FhirUnavailableError("The FHIR server answered something that is not JSON.") from None
    if not isinstance(document, dict) or document.get("resourceType") != expected_type:
        raise FhirUnavailableError(
            f"The FHIR server answered something other than a {expected_type}."
        )
    return document


def _next_link(bundle: Mapping[str, Any]) -> str | None:
    for link in bundle.get("link") or []:
        if link.get("relation") == "next" and link.get("url"):
            return str(link["url"])
    return None


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


def _error_for(response: httpx.Response) -> FhirError:
    status = response.status_code
    summary = f"HTTP {status}{_issue_codes(response)}"
    if status in (404, 410):
        return FhirNotFoundError(f"The FHIR resource does not exist ({summary}).")
    if status in (409, 412):
        return FhirConflictError(f"The FHIR server reported a conflict ({summary}).")
    if status in (401, 403):
        return FhirUnavailableError(f"The FHIR server refused Parley's access ({summary}).")
    if status >= 500:
        return FhirUnavailableError(f"The FHIR server failed ({summary}).")
    return FhirInvalidError(f"The FHIR server refused the request ({summary}).")


def _issue_codes(response: httpx.Response) -> str:
    """The OperationOutcome's issue codes only: its diagnostics may quote resource content."""
    try:
        outcome = response.json()
    except ValueError:
        return ""
    if not isinstance(outcome, dict) or outcome.get("resourceType") != "OperationOutcome":
        return ""
    codes = sorted({str(issue.get("code")) for issue in outcome.get("issue") or []})
    return f"; issues: {', '.join(codes)}" if codes else ""


def _log_call(method: str, resource_type: str, outcome: str, seconds: float) -> None:
    logger.debug(
        "fhir call",
        extra={
            "method": method,
            "resource_type": resource_type,
            "outcome": outcome,
            "duration_ms": round(seconds * 1000, 2),
        },
    )


def _resource_type_of(url: str) -> str:
    """Only the resource type goes to the logs: ids and search values can identify a patient."""
    if "://" in url:
        return "(next page)"
    return url.split("?", 1)[0].split("/", 1)[0]
