"""Turn an upload into what is stored: checked by its bytes, cleaned in a worker process,
measured, named safely."""

import base64
import hashlib
import re
from dataclasses import dataclass
from http import HTTPStatus

from app.errors import AppError, InvalidInputError
from app.media import media
from app.media.inspection import Kind, inspect
from app.media.workers import MediaMemoryError, MediaTimeoutError, MediaWorkers

EXTENSIONS = {
    "image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp",
    "audio/ogg": "ogg", "audio/webm": "webm", "audio/mp4": "m4a", "audio/wav": "wav",
    "audio/mpeg": "mp3", "audio/aac": "aac",
}  # fmt: skip
UNSAFE_NAME_CHARACTERS = re.compile(r"[^A-Za-z0-9._ -]+")


class UnreadableMediaError(AppError):
    status = HTTPStatus.UNPROCESSABLE_ENTITY
    slug = "unreadable-media"
    title = "The file cannot be stored"


@dataclass(frozen=True)
class Prepared:
    data: bytes
    content_type: str
    kind: Kind
    sha1_base64: str
    title: str
    duration_ms: int | None


async def prepare(
    data: bytes,
    *,
    declared_type: str | None,
    filename: str | None,
    workers: MediaWorkers,
) -> Prepared:
    if not data:
        raise InvalidInputError("The file is empty.", field=("body", "file"))
    inspected = inspect(data, declared_type)
    try:
        cleaned = await workers.run(media.clean, data, inspected.content_type)
    except media.MediaRefused as refusal:
        raise UnreadableMediaError(str(refusal)) from None
    except MediaTimeoutError:
        raise UnreadableMediaError("The file took too long to process.") from None
    except MediaMemoryError:
        raise UnreadableMediaError("The file needs too much memory to process.") from None
    return Prepared(
        data=cleaned.data,
        content_type=cleaned.content_type,
        kind=inspected.kind,
        sha1_base64=base64.b64encode(
            hashlib.sha1(cleaned.data, usedforsecurity=False).digest()
        ).decode(),
        title=safe_filename(filename, cleaned.content_type),
        duration_ms=cleaned.duration_ms,
    )


def safe_filename(filename: str | None, content_type: str) -> str:
    """A name that is safe in a header and on a disk, with the extension the bytes deserve."""
    base = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    stem = UNSAFE_NAME_CHARACTERS.sub("_", base.rsplit(".", 1)[0]).strip(" ._")[:80]
    return f"{stem or 'attachment'}.{EXTENSIONS[content_type]}"
