from typing import Annotated

from fastapi import APIRouter, Header, Request
from sse_starlette import EventSourceResponse

from app.auth.dependencies import CurrentPrincipal
from app.dependencies import SettingsDep
from app.events import streaming

router = APIRouter(prefix="/api/v1", tags=["events"])


@router.get(
    "/events",
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "An event stream"}},
)
async def events(
    request: Request,
    principal: CurrentPrincipal,
    settings: SettingsDep,
    last_event_id: Annotated[
        str | None, Header(alias="Last-Event-ID", pattern=r"^[0-9]{1,18}$")
    ] = None,
) -> EventSourceResponse:
    """Server-Sent Events: `message.created`, `message.read`, `conversation.updated`, for the
    conversations the caller may see. Send `Last-Event-ID` to resume."""
    return EventSourceResponse(
        streaming.stream(
            request.app.state.events,
            request.app.state.sessionmaker,
            principal,
            int(last_event_id) if last_event_id is not None else None,
        ),
        ping=settings.events_ping_seconds,
    )
