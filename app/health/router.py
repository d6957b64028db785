from fastapi import APIRouter, Request

from app.dependencies import FhirDep
from app.health import service
from app.health.schemas import HealthRead, ReadinessRead

router = APIRouter(tags=["health"])


@router.get("/health")
async def health() -> HealthRead:
    """Liveness: the process is up and answering."""
    return HealthRead()


@router.get(
    "/ready",
    responses={503: {"description": "A dependency is unreachable; `checks` says which"}},
)
async def ready(request: Request, fhir: FhirDep) -> ReadinessRead:
    """Readiness: the database and the FHIR server can both be reached."""
    return await service.check_readiness(request.app.state.engine, fhir)
