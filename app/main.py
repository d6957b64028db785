"""The ASGI application: `create_app()` wires settings, middleware, routers and lifespan."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import FastAPI

from app import __version__
from app.attachments.router import router as attachments_router
from app.auth.passwords import password_hasher
from app.auth.router import public_router as auth_public_router
from app.auth.router import router as auth_router
from app.auth.throttle import LoginThrottle, create_storage
from app.config import Settings, get_settings
from app.db import create_engine, create_sessionmaker
from app.errors import install_error_handlers
from app.events.bus import EventBus
from app.events.router import router as events_router
from app.fhir.factory import create_gateway
from app.groups.router import router as groups_router
from app.health.router import router as health_router
from app.messaging.router import router as conversations_router
from app.messaging.schemas import MessageCreate
from app.openapi import install_openapi
from app.organisations.router import router as organisations_router
from app.patients.router import router as patients_router
from app.request_log import AccessLogMiddleware
from app.users.router import router as users_router


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    engine = create_engine(settings.database_url, echo=settings.database_echo)
    app.state.engine = engine
    app.state.sessionmaker = create_sessionmaker(engine)
    app.state.password_hasher = password_hasher(settings)
    app.state.login_throttle = LoginThrottle(create_storage(settings.redis_url), settings)
    app.state.fhir = create_gateway(
        settings.fhir_url,
        sessionmaker=app.state.sessionmaker,
        connect_timeout=settings.fhir_connect_timeout_seconds,
        read_timeout=settings.fhir_read_timeout_seconds,
    )
    app.state.events = EventBus(app.state.sessionmaker, settings.database_url)
    await app.state.events.start()
    try:
        yield
    finally:
        await app.state.events.stop()
        await app.state.fhir.aclose()
        await engine.dispose()


def create_app(settings: Settings | None = None) -> FastAPI:
    app = FastAPI(
        title="Parley",
        summary="FHIR-backed clinical messaging",
        version=__version__,
        lifespan=lifespan,
        redoc_url=None,
    )
    app.state.settings = settings or get_settings()
    install_error_handlers(app)
    install_openapi(app, extra_models=(MessageCreate,))
    app.add_middleware(AccessLogMiddleware)
    # Added last, so it runs first: every log line below it carries the request id.
    app.add_middleware(CorrelationIdMiddleware, header_name="X-Request-ID")
    app.include_router(health_router)
    app.include_router(auth_public_router)
    app.include_router(auth_router)
    app.include_router(users_router)
    app.include_router(organisations_router)
    app.include_router(patients_router)
    app.include_router(conversations_router)
    app.include_router(groups_router)
    app.include_router(events_router)
    app.include_router(attachments_router)
    return app
