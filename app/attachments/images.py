"""Images are decoded and encoded again: no metadata (EXIF, GPS, comments) survives."""

import io
from http import HTTPStatus

from PIL import Image, ImageOps, UnidentifiedImageError

from app.errors import AppError

# Decompression bombs: Pillow refuses images of more pixels than this.
Image.MAX_IMAGE_PIXELS = 40_000_000
FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF", "image/webp": "WEBP"}


class UnreadableImageError(AppError):
    status = HTTPStatus.UNPROCESSABLE_ENTITY
    slug = "unreadable-image"
    title = "The image cannot be read"


def clean(data: bytes, content_type: str) -> bytes:
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            frames = getattr(image, "n_frames", 1)
            upright = ImageOps.exif_transpose(image) if frames == 1 else image
            out = io.BytesIO()
            _save(upright, out, FORMATS[content_type], animated=frames > 1)
            return out.getvalue()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as error:
        raise UnreadableImageError(
            f"The image cannot be decoded ({type(error).__name__})."
        ) from None


def _save(image: Image.Image, out: io.BytesIO, format_name: str, *, animated: bool) -> None:
    # Saving without `exif=` / `pnginfo=` is what drops the metadata.
    if format_name == "JPEG":
        image.convert("RGB").save(out, "JPEG", quality=90)
    elif animated:
        image.save(out, format_name, save_all=True)
    else:
        image.save(out, format_name)
