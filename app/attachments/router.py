from fastapi import APIRouter, Response

from app.attachments import service
from app.attachments.responses import download_response
from app.auth.dependencies import CurrentPrincipal
from app.dependencies import FhirDep, SessionDep
from app.ids import BigPathId

router = APIRouter(prefix="/api/v1/attachments", tags=["attachments"])


@router.get(
    "/{attachment_id}",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}, "description": "The bytes"}},
)
async def download(
    attachment_id: BigPathId, principal: CurrentPrincipal, session: SessionDep, fhir: FhirDep
) -> Response:
    """The bytes of an image or voice note, for whoever may read its message."""
    return download_response(await service.download(session, fhir, principal.user, attachment_id))
