from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import DEVELOPMENT_FHIR_CANONICAL_URL, Settings
from app.fhir.embedded import EmbeddedFhirGateway
from app.fhir.http_gateway import CallObserver, HttpFhirGateway
from app.fhir.protocol import FhirGateway

EMBEDDED = "embedded"


def create_gateway(
    fhir_url: str,
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    connect_timeout: float,
    read_timeout: float,
    canonical_url: str = DEVELOPMENT_FHIR_CANONICAL_URL,
    on_call: CallObserver | None = None,
) -> FhirGateway:
    """The embedded store for `embedded`, else an HTTP client of the server at `fhir_url`.

    Only the HTTP client writes Parley's names under the canonical base: the embedded
    store is Parley's alone, never shared or read by another system, so it keeps them
    as the code knows them."""
    if fhir_url == EMBEDDED:
        return EmbeddedFhirGateway(sessionmaker)
    return HttpFhirGateway.connect(
        fhir_url,
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        canonical_url=canonical_url,
        on_call=on_call,
    )


def gateway_for(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    on_call: CallObserver | None = None,
) -> FhirGateway:
    """The gateway the settings name, with their timeouts: the app's, the CLI's, the tests'."""
    return create_gateway(
        settings.fhir_url,
        sessionmaker=sessionmaker,
        connect_timeout=settings.fhir_connect_timeout_seconds,
        read_timeout=settings.fhir_read_timeout_seconds,
        canonical_url=settings.fhir_canonical_url,
        on_call=on_call,
    )
