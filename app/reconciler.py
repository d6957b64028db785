"""The in-process reconciler: every so often, project what FHIR has and SQL lacks.

Each run looks back over twice the interval, so a write that committed late is
still found; reprojection is idempotent, so looking twice costs nothing but a
search. Several app processes may each run one.
"""

import asyncio
import logging
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.errors import where_raised
from app.fhir.protocol import FhirGateway
from app.messaging import reprojection
from app.metrics import Metrics

logger = logging.getLogger(__name__)
FIRST_LOOK_BACK = timedelta(minutes=10)


async def reconcile_forever(
    sessionmaker: async_sessionmaker[AsyncSession],
    fhir: FhirGateway,
    metrics: Metrics,
    *,
    interval_seconds: float,
) -> None:
    since = datetime.now(UTC) - max(FIRST_LOOK_BACK, timedelta(seconds=2 * interval_seconds))
    while True:
        await asyncio.sleep(interval_seconds)
        started = datetime.now(UTC)
        try:
            report = await reprojection.reproject(sessionmaker, fhir, since=since)
        except Exception as error:  # a failed run is retried at the next interval
            logger.error(
                "reconcile run failed: %s", type(error).__name__,
                extra={"stack": where_raised(error)},
            )  # fmt: skip
            continue
        projected = report.messages_created + report.conversations_created
        metrics.reconciled.inc(projected)
        metrics.projection_failures.inc(len(report.failed))
        metrics.reconciler_last_success.set(time.time())
        if projected:
            logger.warning("reconciler projected %d resources that had no row", projected)
        since = started - timedelta(seconds=2 * interval_seconds)
