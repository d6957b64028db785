"""An uploaded file read into an `Upload`, the same for the API and the pages."""

from starlette.datastructures import UploadFile

from app.errors import InvalidInputError, PayloadTooLargeError
from app.messaging.sending import Upload
from app.text import clean


async def read_upload(file: UploadFile, *, text: str | None, limit: int) -> Upload:
    """The file's bytes; past `limit` a 413, having read at most one byte beyond it."""
    try:
        text = clean(text, multiline=True) if text is not None else None
    except ValueError as error:
        raise InvalidInputError(f"text {error}.", field=("body", "text")) from None
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise upload_too_large(limit)
    return Upload(data=data, declared_type=file.content_type, filename=file.filename, text=text)


def upload_too_large(limit: int) -> PayloadTooLargeError:
    return PayloadTooLargeError(f"An attachment is at most {limit // (1024 * 1024)} MiB.")
