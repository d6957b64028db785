"""The ASGI application: `create_app()` wires settings, middleware, routers and lifespan."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app import __version__
from app.attachments.router import router as attachments_router
from app.audit_trail.router import router as audit_router
from app.auth.passwords import password_hasher
from app.auth.router import public_router as auth_public_router
from app.auth.router import router as auth_router
from app.auth.throttle import LoginThrottle, create_storage
from app.body_limits import BodyLimitMiddleware
from app.config import Settings, get_settings
from app.db import create_engine, create_sessionmaker
from app.errors import install_error_handlers
from app.events.bus import EventBus
from app.events.router import router as events_router
from app.fhir.factory import gateway_for
from app.groups.router import router as groups_router
from app.health.router import router as health_router
from app.media.workers import MediaWorkers
from app.messaging.escalation import escalate_forever
from app.messaging.router import router as conversations_router
from app.messaging.schemas import MessageCreate
from app.metrics import Metrics
from app.metrics_router import router as metrics_router
from app.openapi import install_openapi
from app.organisations.router import router as organisations_router
from app.patients.router import router as patients_router
from app.reconciler import reconcile_forever
from app.request_log import AccessLogMiddleware
from app.security_headers import SecurityHeadersMiddleware
from app.sql_metrics import count_sql
from app.users.router import router as users_router
from app.web.errors import render_page_error
from app.web.site import PAGE_ROUTERS
from app.web.templating import STATIC_DIR

# Room for a multipart envelope around an attachment of the largest size allowed.
MULTIPART_ALLOWANCE = 1024 * 1024


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    metrics: Metrics = app.state.metrics
    engine = create_engine(settings.database_url, echo=settings.database_echo)
    app.state.engine = engine
    count_sql(engine, metrics)
    app.state.sessionmaker = create_sessionmaker(engine)
    app.state.password_hasher = password_hasher(settings)
    app.state.login_throttle = LoginThrottle(create_storage(settings.redis_url), settings)
    app.state.fhir = gateway_for(
        settings, app.state.sessionmaker, on_call=metrics.observe_fhir_call
    )
    app.state.events = EventBus(app.state.sessionmaker, settings.database_url)
    app.state.media_workers = MediaWorkers(
        workers=settings.media_workers,
        memory_bytes=settings.media_memory_mib * 1024 * 1024,
        seconds=settings.media_seconds,
    )
    metrics.count_streams(lambda: app.state.events.subscriber_count)
    await app.state.events.start()
    reconciler = None
    if settings.reconcile_seconds:
        reconciler = asyncio.create_task(
            reconcile_forever(
                app.state.sessionmaker,
                app.state.fhir,
                metrics,
                interval_seconds=settings.reconcile_seconds,
            )
        )
    escalation = asyncio.create_task(
        escalate_forever(app.state.sessionmaker, interval_seconds=settings.notify_seconds)
    )
    try:
        yield
    finally:
        jobs = [job for job in (reconciler, escalation) if job is not None]
        for job in jobs:
            job.cancel()
        # A job stuck in a database call must not hold the process's shutdown: what it
        # was doing is retried by the next process's pass.
        await asyncio.wait(jobs, timeout=SHUTDOWN_JOBS_SECONDS)
        await app.state.events.stop()
        app.state.media_workers.close()
        await app.state.fhir.aclose()
        await engine.dispose()


SHUTDOWN_JOBS_SECONDS = 5


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="Parley",
        summary="FHIR-backed clinical messaging",
        version=__version__,
        lifespan=lifespan,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.metrics = Metrics()
    install_error_handlers(app)
    install_openapi(app, extra_models=(MessageCreate,))
    _install_middleware(app, settings)
    for router in (
        health_router,
        auth_public_router,
        auth_router,
        users_router,
        organisations_router,
        patients_router,
        conversations_router,
        groups_router,
        events_router,
        attachments_router,
        audit_router,
    ):
        app.include_router(router)
    if settings.metrics_enabled:
        app.include_router(metrics_router)
    _install_web(app)
    return app


def _install_web(app: FastAPI) -> None:
    """The pages: same services, same rules; their errors are pages too."""
    for router in PAGE_ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.state.render_page_error = render_page_error


def _install_middleware(app: FastAPI, settings: Settings) -> None:
    # Each one added wraps the ones before it: the last added runs first.
    app.add_middleware(
        BodyLimitMiddleware,
        json_max_bytes=settings.json_max_bytes,
        upload_max_bytes=settings.attachment_max_bytes + MULTIPART_ALLOWANCE,
        max_depth=settings.json_max_depth,
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "Last-Event-ID"],
            expose_headers=["X-Request-ID", "Retry-After"],
        )
    app.add_middleware(AccessLogMiddleware)
    # Runs before the access log and everything after it: the client address they see is the
    # one a trusted proxy vouches for, or the peer's own.
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    app.add_middleware(SecurityHeadersMiddleware)
    # Every log line below this one carries the request id.
    app.add_middleware(CorrelationIdMiddleware, header_name="X-Request-ID")
