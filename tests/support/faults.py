"""Faults on demand: a failing SQL commit, and a FHIR server that is slow or talks nonsense.

Real servers cannot be made to fail at the right moment, so these sit at the
boundaries: SQLAlchemy's commit, and an HTTP proxy in front of the real FHIR
server.
"""

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from fastapi import FastAPI, Request, Response
from sqlalchemy import Connection, Engine, event
from sqlalchemy.exc import OperationalError


@contextmanager
def failing_message_commits(times: int = 1) -> Iterator[list[int]]:
    """The next `times` commits that would save a message fail, as a lost database would.

    Watched at the connection, where every statement passes, however it was built."""
    failed: list[int] = []

    def note_messages(connection: Connection, *args: Any) -> None:
        statement = args[1]
        if "INSERT INTO messages " in statement:
            connection.info["saves_message"] = True

    def fail_commit(connection: Connection) -> None:
        if connection.info.pop("saves_message", False) and len(failed) < times:
            failed.append(1)
            raise OperationalError("COMMIT", {}, Exception("injected: the database went away"))

    def forget(connection: Connection) -> None:
        connection.info.pop("saves_message", None)

    event.listen(Engine, "before_cursor_execute", note_messages)
    event.listen(Engine, "commit", fail_commit)
    event.listen(Engine, "rollback", forget)
    try:
        yield failed
    finally:
        event.remove(Engine, "before_cursor_execute", note_messages)
        event.remove(Engine, "commit", fail_commit)
        event.remove(Engine, "rollback", forget)


class FaultyFhir:
    """An HTTP proxy to a real FHIR server that can be told to misbehave on writes."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.mode = "pass"
        self.delay = 0.0
        self.late_writes: list[asyncio.Task[httpx.Response]] = []
        self.app = FastAPI()
        self.app.add_api_route("/fhir/{path:path}", self.handle, methods=["GET", "POST", "PUT"])

    async def handle(self, path: str, request: Request) -> Response:
        if request.method == "GET" or self.mode == "pass":
            return await self._forward(path, request)
        if self.mode == "lost-answer":
            # The server does the work; its answer is lost on the way back, once.
            await self._forward(path, request)
            self.mode = "pass"
            return Response(status_code=502)
        if self.mode == "slow":
            # The server still does the work, after the client has given up waiting.
            write = asyncio.create_task(self._forward_late(path, request, await request.body()))
            self.late_writes.append(write)
            await asyncio.sleep(self.delay)
            return Response(status_code=504)
        return FAILURES[self.mode]()

    async def _forward(self, path: str, request: Request) -> Response:
        upstream = await self._send(
            path, request.method, request.url.query, dict(request.headers), await request.body()
        )
        return Response(
            upstream.content, upstream.status_code, media_type=upstream.headers.get("content-type")
        )

    async def _forward_late(self, path: str, request: Request, body: bytes) -> httpx.Response:
        await asyncio.sleep(self.delay)
        return await self._send(
            path, request.method, request.url.query, dict(request.headers), body
        )

    async def _send(
        self, path: str, method: str, query: str, headers: dict[str, str], body: bytes
    ) -> httpx.Response:
        forwarded = {
            key: value
            for key, value in headers.items()
            if key.lower() not in ("host", "content-length")
        }
        url = f"{self.upstream}/{path}" + (f"?{query}" if query else "")
        async with httpx.AsyncClient(timeout=60) as client:
            return await client.request(method, url, headers=forwarded, content=body)


FAILURES = {
    "error": lambda: Response(
        '{"resourceType":"OperationOutcome","issue":[{"severity":"fatal","code":"exception"}]}',
        500, media_type="application/fhir+json",
    ),
    "garbage": lambda: Response("<html>502 Bad Gateway</html>", 200, media_type="text/html"),
    "wrong-type": lambda: Response(
        '{"resourceType":"Observation","status":"final"}', 201,
        media_type="application/fhir+json",
    ),
}  # fmt: skip
