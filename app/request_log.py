"""The access log: one line per request with route, status and latency.

The path logged is the route template (`/api/v1/conversations/{id}`), not the
raw path, so ids and query strings, which can identify patients, stay out of
the logs.
"""

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger("parley.access")


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_record_status)
        finally:
            seconds = time.perf_counter() - started
            route = route_template(scope)
            logger.info(
                "request",
                extra={
                    "method": scope["method"],
                    "route": route,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 2),
                    "user_id": scope.get("state", {}).get("user_id"),
                },
            )
            metrics = getattr(getattr(scope.get("app"), "state", None), "metrics", None)
            if metrics is not None:
                metrics.requests.labels(scope["method"], route, str(status)).observe(seconds)


def route_template(scope: Scope) -> str:
    # The router records the matched route in the (shared) scope as it dispatches.
    route = scope.get("route")
    return str(getattr(route, "path", "<unmatched>"))
