"""Turn an upload into what is stored: checked, cleaned, measured, named safely."""

import base64
import hashlib
import re
from dataclasses import dataclass

from app.attachments import audio, images
from app.attachments.inspection import Kind, inspect
from app.errors import InvalidInputError

EXTENSIONS = {
    "image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp",
    "audio/ogg": "ogg", "audio/webm": "webm", "audio/mp4": "m4a", "audio/wav": "wav",
    "audio/mpeg": "mp3", "audio/aac": "aac",
}  # fmt: skip
UNSAFE_NAME_CHARACTERS = re.compile(r"[^A-Za-z0-9._ -]+")


@dataclass(frozen=True)
class Prepared:
    data: bytes
    content_type: str
    kind: Kind
    sha1_base64: str
    title: str
    duration_ms: int | None


def prepare(data: bytes, *, declared_type: str | None, filename: str | None) -> Prepared:
    if not data:
        raise InvalidInputError("The file is empty.", field=("body", "file"))
    inspected = inspect(data, declared_type)
    if inspected.kind == "image":
        data = images.clean(data, inspected.content_type)
        duration = None
    else:
        duration = audio.duration_ms(data)
    return Prepared(
        data=data,
        content_type=inspected.content_type,
        kind=inspected.kind,
        sha1_base64=base64.b64encode(hashlib.sha1(data, usedforsecurity=False).digest()).decode(),
        title=safe_filename(filename, inspected.content_type),
        duration_ms=duration,
    )


def safe_filename(filename: str | None, content_type: str) -> str:
    """A name that is safe in a header and on a disk, with the extension the bytes deserve."""
    base = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    stem = UNSAFE_NAME_CHARACTERS.sub("_", base.rsplit(".", 1)[0]).strip(" ._")[:80]
    return f"{stem or 'attachment'}.{EXTENSIONS[content_type]}"
