from collections.abc import AsyncIterator

import pytest

from app.config import Settings
from app.db import create_engine, create_sessionmaker
from app.fhir.embedded import EmbeddedFhirGateway
from app.fhir.factory import EMBEDDED
from app.fhir.http_gateway import HttpFhirGateway
from app.fhir.protocol import FhirGateway


@pytest.fixture
async def fhir_gateway(fhir_url: str, settings: Settings) -> AsyncIterator[FhirGateway]:
    """Each contract test runs once against the embedded store and once against HAPI."""
    if fhir_url == EMBEDDED:
        engine = create_engine(settings.database_url)
        yield EmbeddedFhirGateway(create_sessionmaker(engine))
        await engine.dispose()
        return
    gateway = HttpFhirGateway.connect(fhir_url, connect_timeout=3, read_timeout=60)
    yield gateway
    await gateway.aclose()
