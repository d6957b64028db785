from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import Settings
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
    on_call: CallObserver | None = None,
) -> FhirGateway:
    """The embedded store for `embedded`, else an HTTP client of the server at `fhir_url`."""
    if fhir_url == EMBEDDED:
        return EmbeddedFhirGateway(sessionmaker)
    return HttpFhirGateway.connect(
        fhir_url, connect_timeout=connect_timeout, read_timeout=read_timeout, on_call=on_call
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
        on_call=on_call,
    )
