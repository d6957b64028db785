"""A gateway of the test's own, to look at what the FHIR server holds."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import text

from app.config import Settings
from app.db import create_engine, create_sessionmaker
from app.fhir.factory import create_gateway
from app.fhir.protocol import FhirGateway


@asynccontextmanager
async def fhir_gateway(settings: Settings) -> AsyncIterator[FhirGateway]:
    """Patient timeouts whatever the app's: a fault test may have set those short."""
    engine = create_engine(settings.database_url)
    gateway = create_gateway(
        settings.fhir_url,
        sessionmaker=create_sessionmaker(engine),
        connect_timeout=3,
        read_timeout=30,
        canonical_url=settings.fhir_canonical_url,
    )
    try:
        yield gateway
    finally:
        await gateway.aclose()
        await engine.dispose()


async def stored(settings: Settings, query: str, **values: Any) -> Any:
    """One value read straight from the database (a FHIR id a row keeps, say)."""
    engine = create_engine(settings.database_url)
    try:
        async with engine.connect() as connection:
            return await connection.scalar(text(query), values)
    finally:
        await engine.dispose()
