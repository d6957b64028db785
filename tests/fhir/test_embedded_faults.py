import time

import pytest
from fhir.resources.R4B.patient import Patient

from app.db import create_engine, create_sessionmaker
from app.fhir.embedded import EmbeddedFhirGateway
from app.fhir.errors import FhirInvalidError, FhirUnavailableError


async def test_an_unreachable_embedded_store_is_a_typed_unavailable_error() -> None:
    engine = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/nothing")
    gateway = EmbeddedFhirGateway(create_sessionmaker(engine))
    started = time.monotonic()

    with pytest.raises(FhirUnavailableError):
        await gateway.read(Patient, "1")

    assert time.monotonic() - started < 5
    await engine.dispose()


async def test_the_embedded_store_refuses_searches_it_does_not_support(
    database_url: str,
) -> None:
    engine = create_engine(database_url)
    gateway = EmbeddedFhirGateway(create_sessionmaker(engine))

    with pytest.raises(FhirInvalidError, match="birthdate"):
        _ = [p async for p in gateway.search(Patient, [("birthdate", "2000-01-01")])]
    await engine.dispose()
