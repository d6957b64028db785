"""A real HTTP server around an app, for what the in-process transport cannot do: streams."""

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import uvicorn
from fastapi import FastAPI

from tests.support.processes import free_port


@asynccontextmanager
async def live_server(app: FastAPI) -> AsyncIterator[str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", log_config=None)
    )
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(20):
            # uvicorn offers only a flag to poll; there is no event to wait on.
            while not server.started:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@dataclass(frozen=True)
class ReceivedEvent:
    id: int
    type: str
    data: dict[str, object]


async def read_events(
    base_url: str, token: str, into: list[ReceivedEvent], *, last_event_id: int | None = None
) -> None:
    """Collect the events of a stream until cancelled."""
    headers = {"Authorization": f"Bearer {token}"}
    if last_event_id is not None:
        headers["Last-Event-ID"] = str(last_event_id)
    async with (
        httpx.AsyncClient(base_url=base_url, timeout=None) as client,
        client.stream("GET", "/api/v1/events", headers=headers) as response,
    ):
        assert response.status_code == 200
        fields: dict[str, str] = {}
        async for line in response.aiter_lines():
            if line == "":
                if "event" in fields:
                    into.append(
                        ReceivedEvent(
                            int(fields["id"]), fields["event"], json.loads(fields["data"])
                        )
                    )
                fields = {}
            elif not line.startswith(":") and ":" in line:
                name, value = line.split(":", 1)
                fields[name] = value.removeprefix(" ")
