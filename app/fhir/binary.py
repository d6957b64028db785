"""Attachment bytes as a FHIR `Binary` and back: the same for every gateway."""

import base64
from typing import Any

from fhir.resources.R4B.binary import Binary

from app.fhir.protocol import BinaryContent


def build_binary(content: BinaryContent, binary_id: str | None = None) -> Binary:
    document: dict[str, Any] = {
        "resourceType": "Binary",
        "contentType": content.content_type,
        "data": base64.b64encode(content.data).decode(),
    }
    if binary_id is not None:
        document["id"] = binary_id
    if content.security_context is not None:
        document["securityContext"] = {"reference": content.security_context}
    return Binary.model_validate(document)


def binary_content(binary: Binary) -> BinaryContent:
    """fhir.resources has already decoded `data` from base64."""
    guard = binary.securityContext.reference if binary.securityContext else None
    return BinaryContent(
        content_type=binary.contentType or "application/octet-stream",
        data=binary.data or b"",
        security_context=guard,
    )
