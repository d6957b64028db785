"""How long a voice note lasts, where the format tells (WebM from browsers often does not)."""

import io

import mutagen
from mutagen import MutagenError


def duration_ms(data: bytes) -> int | None:
    try:
        audio = mutagen.File(io.BytesIO(data))
    except (MutagenError, ValueError, EOFError):
        return None
    length = getattr(getattr(audio, "info", None), "length", None)
    return round(length * 1000) if isinstance(length, int | float) and length > 0 else None
