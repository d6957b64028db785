import asyncio
import logging

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.errors import ServiceUnavailableError
from app.health.schemas import CheckResult, ReadinessRead

logger = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 3.0


class NotReadyError(ServiceUnavailableError):
    slug = "not-ready"
    title = "Not ready"


async def check_readiness(engine: AsyncEngine) -> ReadinessRead:
    checks = {"database": await _check_database(engine)}
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
