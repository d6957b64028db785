"""Typed dependency aliases shared by every router.

They are `async def` though they await nothing: FastAPI runs a plain `def` dependency
in its thread pool, a hop that costs more than the work.
"""

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import Settings
from app.db import get_session
from app.fhir.protocol import FhirGateway
from app.media.workers import MediaWorkers


async def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_fhir(request: Request) -> FhirGateway:
    gateway: FhirGateway = request.app.state.fhir
    return gateway


async def get_sessionmaker(request: Request) -> async_sessionmaker[AsyncSession]:
    """For work that outlives the request's own transaction (event streams)."""
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    return sessionmaker


async def get_media_workers(request: Request) -> MediaWorkers:
    workers: MediaWorkers = request.app.state.media_workers
    return workers


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
FhirDep = Annotated[FhirGateway, Depends(get_fhir)]
SessionmakerDep = Annotated[async_sessionmaker[AsyncSession], Depends(get_sessionmaker)]
MediaWorkersDep = Annotated[MediaWorkers, Depends(get_media_workers)]
