import asyncio
import logging

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.errors import ServiceUnavailableError
from app.fhir.errors import FhirError
from app.fhir.protocol import FhirGateway
from app.health.schemas import CheckResult, ReadinessRead

logger = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 3.0


class NotReadyError(ServiceUnavailableError):
    slug = "not-ready"
    title = "Not ready"


async def check_readiness(engine: AsyncEngine, fhir: FhirGateway) -> ReadinessRead:
    database, fhir_server = await asyncio.gather(_check_database(engine), _check_fhir(fhir))
    checks = {"database": database, "fhir": fhir_server}
    if any(result != "ok" for result in checks.values()):
        raise NotReadyError(
            "A dependency is unreachable; see `checks`.", extensions={"checks": checks}
        )
    return ReadinessRead(checks=checks)


async def _check_database(engine: AsyncEngine) -> CheckResult:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS), engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as exc:  # any failure means "not ready"; the kind goes to the log
        logger.warning("database readiness check failed: %s", type(exc).__name__)
        return "unavailable"
    return "ok"


async def _check_fhir(fhir: FhirGateway) -> CheckResult:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            await fhir.check()
    except (FhirError, TimeoutError) as error:
        logger.warning("FHIR readiness check failed: %s", type(error).__name__)
        return "unavailable"
    return "ok"
