"""Attachment bytes as a FHIR `Binary` and back: the same for every gateway."""

import base64

from fhir.resources.R4B.binary import Binary

from app.fhir.protocol import BinaryContent


def build_binary(content: BinaryContent, binary_id: str | None = None) -> Binary:
    return Binary(
        id=binary_id,
        contentType=content.content_type,
        data=base64.b64encode(content.data).decode(),
    )


def binary_content(binary: Binary) -> BinaryContent:
    """fhir.resources has already decoded `data` from base64."""
    return BinaryContent(
        content_type=binary.contentType or "application/octet-stream", data=binary.data or b""
    )
