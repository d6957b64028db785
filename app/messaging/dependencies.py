"""The body of a send: JSON text (or an amendment), or a multipart upload with one file."""

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from app.auth.dependencies import CurrentPrincipal
from app.dependencies import SettingsDep
from app.errors import InvalidInputError
from app.messaging.schemas import MAX_TEXT, MessageCreate
from app.messaging.sending import Upload
from app.messaging.uploads import read_upload, upload_too_large

MULTIPART_OVERHEAD = 64 * 1024


async def message_input(
    request: Request, settings: SettingsDep, _: CurrentPrincipal
) -> MessageCreate | Upload:
    """Read only once the caller is known: an anonymous body is never parsed."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        return await _upload(request, settings.attachment_max_bytes)
    try:
        return MessageCreate.model_validate_json(await request.body())
    except ValidationError as error:
        raise RequestValidationError(
            [_in_body(detail) for detail in error.errors(include_url=False)]
        ) from None


def _in_body(detail: Any) -> Any:
    return {**detail, "loc": ("body", *detail["loc"])}


async def _upload(request: Request, limit: int) -> Upload:
    declared_length = request.headers.get("content-length", "")
    if declared_length.isdigit() and int(declared_length) > limit + MULTIPART_OVERHEAD:
        raise upload_too_large(limit)
    form = await request.form(max_files=1, max_fields=2, max_part_size=MAX_TEXT * 4)
    file = form.get("file")
    if not isinstance(file, UploadFile):
        raise InvalidInputError(
            "Send the attachment as the form field `file`.", field=("body", "file")
        )
    text = form.get("text")
    if text is not None and (not isinstance(text, str) or len(text) > MAX_TEXT):
        raise InvalidInputError(f"text is at most {MAX_TEXT} characters.", field=("body", "text"))
    return await read_upload(
        file, text=text.strip() or None if isinstance(text, str) else None, limit=limit
    )


MessageInput = Annotated[MessageCreate | Upload, Depends(message_input)]

# The request body of a send, for the OpenAPI document (the dependency reads it itself).
SEND_REQUEST_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/MessageCreate"}},
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "description": "An image or audio file.",
                    },
                    "text": {"type": "string", "maxLength": MAX_TEXT},
                },
            }
        },
    },
}
