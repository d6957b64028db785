"""What a file really is, by its bytes (magic numbers), never by its name or declared type."""

from dataclasses import dataclass
from http import HTTPStatus
from typing import Literal

import filetype

from app.errors import AppError

Kind = Literal["image", "voice"]

# What the bytes say -> what we store it as, and the declared types that may name it.
ALLOWED: dict[str, tuple[str, Kind, frozenset[str]]] = {
    "image/png": ("image/png", "image", frozenset({"image/png"})),
    "image/jpeg": ("image/jpeg", "image", frozenset({"image/jpeg", "image/jpg", "image/pjpeg"})),
    "image/gif": ("image/gif", "image", frozenset({"image/gif"})),
    "image/webp": ("image/webp", "image", frozenset({"image/webp"})),
    "audio/ogg": ("audio/ogg", "voice", frozenset({"audio/ogg", "audio/opus", "application/ogg"})),
    # MediaRecorder's voice notes are WebM with only an audio track.
    "video/webm": ("audio/webm", "voice", frozenset({"audio/webm", "video/webm"})),
    "audio/mp4": (
        "audio/mp4",
        "voice",
        frozenset({"audio/mp4", "audio/m4a", "audio/x-m4a", "audio/aac"}),
    ),
    "video/mp4": (
        "audio/mp4",
        "voice",
        frozenset({"audio/mp4", "audio/m4a", "audio/x-m4a", "audio/aac"}),
    ),
    "audio/x-wav": (
        "audio/wav",
        "voice",
        frozenset({"audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave"}),
    ),
    "audio/mpeg": ("audio/mpeg", "voice", frozenset({"audio/mpeg", "audio/mp3"})),
    "audio/aac": ("audio/aac", "voice", frozenset({"audio/aac", "audio/aacp"})),
}
# Declared types that say nothing, so the bytes alone decide.
UNSPECIFIC = frozenset({"", "application/octet-stream", "binary/octet-stream"})


class UnsupportedMediaTypeError(AppError):
    status = HTTPStatus.UNSUPPORTED_MEDIA_TYPE
    slug = "unsupported-media-type"
    title = "Unsupported media type"


@dataclass(frozen=True)
class Inspected:
    content_type: str
    kind: Kind


def inspect(data: bytes, declared_type: str | None) -> Inspected:
    guess = filetype.guess(data)
    allowed = ALLOWED.get(guess.mime) if guess is not None else None
    if allowed is None:
        raise UnsupportedMediaTypeError(
            "Only PNG, JPEG, WebP and GIF images and WebM, Ogg, MP4/AAC, WAV and MP3 audio "
            "are accepted, as their contents show."
        )
    content_type, kind, names = allowed
    declared = (declared_type or "").split(";")[0].strip().lower()
    if declared not in UNSPECIFIC and declared not in names:
        raise UnsupportedMediaTypeError(
            f"The file was declared {declared}, but its contents are {content_type}."
        )
    return Inspected(content_type=content_type, kind=kind)
