"""Idempotency-Key: the same request, sent again with the same key, gets the same answer.

A key belongs to the user who sent it. Its record holds the request (method,
path, a hash of the body) and the answer. The resource identifiers a keyed
request creates are derived from the key (with the user, and the conversation
or patient it is about), so a retry after a failure between the FHIR write and
the SQL write finds the FHIR resource it already made. Callers still check that
what they found is theirs: FHIR may outlive this database.
"""

import hashlib
import uuid
from dataclasses import dataclass

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidInputError
from app.idempotency.models import IdempotencyRecord

NAMESPACE = uuid.UUID("6f1b3c52-8f0e-4f43-9d1a-5b2d8e0c7a11")


@dataclass(frozen=True)
class KeyedRequest:
    user_id: int
    key: str
    request: str
    request_hash: str

    def uuid_for(self, purpose: str) -> uuid.UUID:
        return uuid.uuid5(NAMESPACE, f"{self.user_id}\0{self.key}\0{purpose}")


def keyed(
    key: str | None, *, user_id: int, method: str, path: str, body: BaseModel | bytes
) -> KeyedRequest | None:
    if key is None:
        return None
    content = body if isinstance(body, bytes) else body.model_dump_json().encode()
    digest = hashlib.sha256(content).hexdigest()
    return KeyedRequest(user_id=user_id, key=key, request=f"{method} {path}", request_hash=digest)


def uuid_for(request: KeyedRequest | None, purpose: str) -> uuid.UUID:
    return request.uuid_for(purpose) if request is not None else uuid.uuid4()


async def earlier_answer(session: AsyncSession, request: KeyedRequest | None) -> str | None:
    """The body answered before to this very request; 422 if the key was used for another."""
    if request is None:
        return None
    record = await session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.user_id == request.user_id, IdempotencyRecord.key == request.key
        )
    )
    if record is None:
        return None
    if (record.request, record.request_hash) != (request.request, request.request_hash):
        raise InvalidInputError(
            "This Idempotency-Key was already used for a different request.",
            field=("header", "Idempotency-Key"),
        )
    return record.response_body


def remember(
    session: AsyncSession, request: KeyedRequest | None, status_code: int, body: str
) -> None:
    if request is None:
        return
    session.add(
        IdempotencyRecord(
            user_id=request.user_id,
            key=request.key,
            request=request.request,
            request_hash=request.request_hash,
            status_code=status_code,
            response_body=body,
        )
    )
