"""Bounds on what a request may be (its URL, its body), checked before anything parses it.

Too large is a 413 (by Content-Length, or while reading a body that has none);
JSON nested deeper than a sane depth is a 400 before Python's parser could
recurse into it.
"""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import PayloadTooLargeError, problem_response

MAX_URL = 8192


class BodyTooLarge(PayloadTooLargeError):
    """Raised while reading a body that has outgrown its limit."""

    def __init__(self) -> None:
        super().__init__("The request body is too large.")


class BodyLimitMiddleware:
    def __init__(
        self, app: ASGIApp, *, json_max_bytes: int, upload_max_bytes: int, max_depth: int
    ) -> None:
        self.app = app
        self.json_max_bytes = json_max_bytes
        self.upload_max_bytes = upload_max_bytes
        self.max_depth = max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and len(scope.get("query_string", b"")) + len(scope["path"]) > MAX_URL
        ):
            response = problem_response(
                status=414, slug="uri-too-long", title="URI too long",
                detail=f"The path and query may be at most {MAX_URL} characters.",
            )  # fmt: skip
            await response(scope, receive, send)
            return
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        content_type = _header(scope, b"content-type")
        is_upload = content_type.startswith("multipart/form-data")
        limit = self.upload_max_bytes if is_upload else self.json_max_bytes
        declared = _header(scope, b"content-length")
        if declared.isdigit() and int(declared) > limit:
            await _too_large(scope, receive, send, limit)
            return
        if is_upload:
            await self.app(scope, _counting(receive, limit), send)
            return
        try:
            body = await _read_all(receive, limit)
        except BodyTooLarge:
            await _too_large(scope, receive, send, limit)
            return
        if "json" in content_type and _depth(body) > self.max_depth:
            response = problem_response(
                status=400, slug="bad-request", title="Bad request",
                detail=f"JSON may nest at most {self.max_depth} levels deep.",
            )  # fmt: skip
            await response(scope, receive, send)
            return
        await self.app(scope, _replay(body), send)


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1")).lower()
    return ""


async def _read_all(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


def _counting(receive: Receive, limit: int) -> Receive:
    size = 0

    async def counted() -> Message:
        nonlocal size
        message = await receive()
        if message["type"] == "http.request":
            size += len(message.get("body", b""))
            if size > limit:
                raise BodyTooLarge
        return message

    return counted


def _depth(body: bytes) -> int:
    """How deep the brackets of a JSON text nest, outside strings; a linear scan."""
    deepest = depth = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return deepest


async def _too_large(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    response = problem_response(
        status=413, slug="payload-too-large", title="Too large",
        detail=f"The request body is larger than {limit} bytes.",
    )  # fmt: skip
    await response(scope, receive, send)
