"""Faults a real FHIR server cannot be made to show on demand, faked at the HTTP boundary."""

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from fhir.resources.R4B.patient import Patient

from app.config import DEVELOPMENT_FHIR_CANONICAL_URL
from app.fhir.errors import FhirInvalidError, FhirUnavailableError
from app.fhir.http_gateway import HttpFhirGateway
from app.fhir.protocol import Token
from app.fhir.resources import PatientDetails, build_patient
from tests.support.processes import free_port

BASE_URL = "http://fhir.test/fhir"
IDENTIFIER = Token("urn:parley:message", "b5a4f3c2-0000-4000-8000-000000000001")
PATIENT_JSON = {"resourceType": "Patient", "id": "1", "meta": {"versionId": "1"}}


def faked(handler: Callable[[httpx.Request], httpx.Response]) -> HttpFhirGateway:
    return HttpFhirGateway.connect(
        BASE_URL, connect_timeout=1, read_timeout=1, transport=httpx.MockTransport(handler)
    )


def answering(*responses: httpx.Response) -> tuple[HttpFhirGateway, list[httpx.Request]]:
    """A server answering these responses in turn (the last one from then on)."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return responses[min(len(seen), len(responses)) - 1]

    return faked(handler), seen


async def test_a_server_that_refuses_connections_is_unavailable_quickly() -> None:
    gateway = HttpFhirGateway.connect(
        f"http://127.0.0.1:{free_port()}/fhir", connect_timeout=1, read_timeout=1
    )
    started = time.monotonic()

    with pytest.raises(FhirUnavailableError):
        await gateway.read(Patient, "1")

    assert time.monotonic() - started < 5
    await gateway.aclose()


@pytest.fixture
async def silent_server() -> AsyncIterator[str]:
    """Accepts connections and never answers: a FHIR server stuck beyond any timeout."""
    held: list[asyncio.StreamWriter] = []

    async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}/fhir"
    for writer in held:
        writer.close()
    server.close()


async def test_a_silent_server_is_unavailable_within_the_read_timeout_without_retrying(
    silent_server: str,
) -> None:
    gateway = HttpFhirGateway.connect(silent_server, connect_timeout=1, read_timeout=0.5)
    started = time.monotonic()

    with pytest.raises(FhirUnavailableError, match="in time"):
        await gateway.create_if_none_exist(
            build_patient(PatientDetails(given_name="A", family_name="B")), identifier=IDENTIFIER
        )

    # One attempt only: the server may still be working on the first one.
    assert time.monotonic() - started < 1.5
    await gateway.aclose()


async def test_transient_5xx_on_a_conditional_create_is_retried_until_it_succeeds() -> None:
    gateway, seen = answering(
        httpx.Response(503), httpx.Response(502), httpx.Response(201, json=PATIENT_JSON)
    )

    outcome = await gateway.create_if_none_exist(
        build_patient(PatientDetails(given_name="A", family_name="B")), identifier=IDENTIFIER
    )

    assert outcome.created is True
    assert len(seen) == 3
    # On the wire, Parley's identifier system lives under the canonical base, and it is
    # asked in either form, so a retry across the change of names still finds the first.
    wire = (
        f"identifier={DEVELOPMENT_FHIR_CANONICAL_URL}/sid/message|{IDENTIFIER.value},"
        f"urn:parley:message|{IDENTIFIER.value}"
    )
    assert all(request.headers["If-None-Exist"] == wire for request in seen)


async def test_a_plain_create_is_never_retried() -> None:
    gateway, seen = answering(httpx.Response(503), httpx.Response(201, json=PATIENT_JSON))

    with pytest.raises(FhirUnavailableError):
        await gateway.create(build_patient(PatientDetails(given_name="A", family_name="B")))

    assert len(seen) == 1


async def test_persistent_5xx_gives_up_after_a_bounded_number_of_attempts() -> None:
    gateway, seen = answering(httpx.Response(503))

    with pytest.raises(FhirUnavailableError, match="503"):
        await gateway.read(Patient, "1")

    assert len(seen) == 3


@pytest.mark.parametrize(
    "response",
    [
        pytest.param(httpx.Response(500, json={"resourceType": "OperationOutcome"}), id="500"),
        pytest.param(httpx.Response(200, text="<html>proxy error</html>"), id="not-json"),
        pytest.param(httpx.Response(200, json={"resourceType": "Observation"}), id="wrong-type"),
        pytest.param(httpx.Response(200, json=[1, 2, 3]), id="json-array"),
        pytest.param(
            httpx.Response(200, json={"resourceType": "Patient", "gender": 7}), id="invalid"
        ),
    ],
)
async def test_failures_and_garbage_are_typed_unavailable_errors(response: httpx.Response) -> None:
    gateway, _ = answering(response)

    with pytest.raises(FhirUnavailableError):
        await gateway.read(Patient, "1")


async def test_a_refused_resource_is_invalid_and_the_outcome_text_is_not_repeated() -> None:
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "processing", "diagnostics": "Patient Jane Doe"}],
    }
    gateway, _ = answering(httpx.Response(400, json=outcome))

    with pytest.raises(FhirInvalidError) as raised:
        await gateway.create(build_patient(PatientDetails(given_name="Jane", family_name="Doe")))

    assert "processing" in raised.value.detail
    assert "Jane" not in raised.value.detail


async def test_a_next_link_to_another_host_is_not_followed() -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "link": [{"relation": "next", "url": "http://evil.test/steal?page=2"}],
        "entry": [{"resource": PATIENT_JSON, "search": {"mode": "match"}}],
    }
    gateway, seen = answering(httpx.Response(200, json=bundle))

    with pytest.raises(FhirUnavailableError, match="another host"):
        _ = [patient async for patient in gateway.search(Patient, [("_count", "1")])]

    assert len(seen) == 1


async def test_searches_bypass_the_server_cache() -> None:
    bundle = {"resourceType": "Bundle", "type": "searchset", "entry": []}
    gateway, seen = answering(httpx.Response(200, json=bundle))

    _ = [patient async for patient in gateway.search(Patient, [("identifier", "a|b")])]

    assert seen[0].headers["Cache-Control"] == "no-cache"
    assert seen[0].url.params["identifier"] == "a|b"
