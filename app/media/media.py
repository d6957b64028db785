"""Cleaning untrusted images and voice notes. Runs in a worker process (see `workers`), so it
imports nothing of the app: only Pillow and PyAV, and answers in plain, picklable values.

Images: the header is read first and an image of too many pixels is refused before any
decoding; only the first frame of an animation is kept (a still is what a clinician
reviews, and a frame count is what makes an animation a bomb); colours are converted
to sRGB; what is stored is made from the pixels alone, at most 4096 pixels on its
longest side, with no EXIF, GPS, comments, XMP, text chunks or colour profile. A GIF
is stored as the PNG of its first frame.

Voice notes: the audio stream alone is copied into a new container of the same kind,
packet for packet (no re-encoding, so no loss), with no tags, chapters, cover art or
muxer names; the duration is counted from the packets, which browsers' WebM lacks.
"""

import io
from dataclasses import dataclass
from fractions import Fraction

import av
from PIL import Image, ImageCms, ImageOps

# Per frame, as the header states it. A JPEG is decoded at a reduced scale (DCT scaling),
# so a large phone photo costs what a small one does; other formats decode in full.
MAX_PIXELS = 24_000_000
MAX_JPEG_PIXELS = 100_000_000
MAX_SIDE = 4096
# Pillow's own guard, as a backstop behind ours.
Image.MAX_IMAGE_PIXELS = MAX_JPEG_PIXELS

IMAGE_FORMATS = {
    "image/png": ("PNG", "image/png"),
    "image/jpeg": ("JPEG", "image/jpeg"),
    "image/gif": ("PNG", "image/png"),
    "image/webp": ("WEBP", "image/webp"),
}
AUDIO_FORMATS = {
    "audio/ogg": "ogg",
    "audio/webm": "webm",
    "audio/mp4": "mp4",
    "audio/wav": "wav",
    "audio/mpeg": "mp3",
    "audio/aac": "adts",
}
# Muxer options that write nothing but the audio: no ID3 or Xing tags, no encoder names.
MUXER_OPTIONS = {
    "mp3": {"id3v2_version": "0", "write_id3v1": "0", "write_xing": "0"},
}


class MediaRefused(Exception):
    """The file is of an accepted type but cannot or must not be stored; the message says
    why, in words for the person who sent it."""


@dataclass(frozen=True)
class Cleaned:
    data: bytes
    content_type: str
    duration_ms: int | None = None


def clean(data: bytes, content_type: str) -> Cleaned:
    if content_type in IMAGE_FORMATS:
        return clean_image(data, content_type)
    return clean_audio(data, content_type)


def clean_image(data: bytes, content_type: str) -> Cleaned:
    format_name, stored_type = IMAGE_FORMATS[content_type]
    try:
        with Image.open(io.BytesIO(data)) as image:
            _refuse_too_many_pixels(image)
            if image.format == "JPEG":
                image.draft("RGB", _fitting(image.size))
            image.load()  # the first frame only: nothing seeks further
            still = _srgb(ImageOps.exif_transpose(image), image.info.get("icc_profile"))
    except MediaRefused:
        raise
    except Image.DecompressionBombError:  # Pillow's own guard, on opening
        raise MediaRefused(
            f"The image has more than {MAX_JPEG_PIXELS // 1_000_000} megapixels."
        ) from None
    except (OSError, ValueError, SyntaxError) as error:
        raise MediaRefused(f"The image cannot be decoded ({type(error).__name__}).") from None
    still.thumbnail((MAX_SIDE, MAX_SIDE))
    out = io.BytesIO()
    _bare(still, format_name).save(out, format_name, **_encoder_options(format_name))
    return Cleaned(out.getvalue(), stored_type)


def _fitting(size: tuple[int, int]) -> tuple[int, int]:
    """The size of the stored image, for JPEG's reduced decoding (which keeps at least it)."""
    scale = MAX_SIDE / max(size)
    return (max(1, int(size[0] * scale)), max(1, int(size[1] * scale))) if scale < 1 else size


def _refuse_too_many_pixels(image: Image.Image) -> None:
    width, height = image.size
    limit = MAX_JPEG_PIXELS if image.format == "JPEG" else MAX_PIXELS
    if width * height > limit:
        raise MediaRefused(
            f"The image is {width} x {height} pixels; at most {limit // 1_000_000} megapixels "
            "are accepted."
        )


def _srgb(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """The image in sRGB (RGB, or RGBA where it has transparency)."""
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    mode = "RGBA" if has_alpha else "RGB"
    # CMYK and grey images are converted by the profile itself; palettes and 16-bit images
    # are expanded first, and their profile applied to what they expand to.
    base = image if image.mode in ("RGB", "RGBA", "CMYK", "L") else image.convert(mode)
    if icc_profile:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
            target = ImageCms.createProfile("sRGB")
            converted = ImageCms.profileToProfile(base, source, target, outputMode=mode)
            if converted is not None:
                return converted
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # an unreadable or mismatched profile: the pixels as they are
    return base.convert(mode)


def _bare(image: Image.Image, format_name: str) -> Image.Image:
    """A new image of the same pixels and nothing else: Pillow's encoders fall back on an
    image's `info` (comments, profiles, XMP) when not told otherwise."""
    pixels = image.convert("RGB") if format_name == "JPEG" else image
    bare = Image.frombytes(pixels.mode, pixels.size, pixels.tobytes())
    bare.info = {}
    return bare


def _encoder_options(format_name: str) -> dict[str, object]:
    if format_name == "JPEG":
        return {"quality": 90}
    if format_name == "WEBP":
        return {"quality": 90, "exif": b"", "xmp": b"", "icc_profile": b""}
    return {}


def clean_audio(data: bytes, content_type: str) -> Cleaned:
    try:
        remuxed, duration_ms = _remux(data, AUDIO_FORMATS[content_type])
    except (av.FFmpegError, IndexError, ValueError) as error:
        raise MediaRefused(f"The voice note cannot be read ({type(error).__name__}).") from None
    return Cleaned(remuxed, content_type, duration_ms)


def _remux(data: bytes, format_name: str) -> tuple[bytes, int | None]:
    out = io.BytesIO()
    seconds = Fraction(0)
    with av.open(io.BytesIO(data), "r") as source:
        audio = source.streams.audio[0]
        if format_name == "webm" and audio.codec_context.name != "opus":
            # Vorbis carries its comment header inside the codec's own setup data.
            raise MediaRefused("A WebM voice note must be Opus audio.")
        options = {**MUXER_OPTIONS.get(format_name, {}), "fflags": "+bitexact"}
        with av.open(out, "w", format=format_name, options=options) as target:
            stream = target.add_stream_from_template(audio)
            stream.metadata.clear()
            for packet in source.demux(audio):
                if packet.dts is None:  # the flush packet at the end
                    continue
                if packet.duration and packet.time_base:
                    seconds += packet.duration * packet.time_base
                packet.stream = stream
                target.mux(packet)
    if out.tell() == 0:
        raise ValueError("no audio")
    return out.getvalue(), round(seconds * 1000) or None
