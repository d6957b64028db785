"""The one write path: FHIR first (the record), then the rows, in one SQL transaction.

Starting a conversation, sending a message and sending an attachment all write this way.
FHIR's conditional create makes a retry find what its first attempt made, so what FHIR
answers is checked to be the caller's own before anything is projected from it.
"""

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from fhir.resources.R4B.communication import Communication
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidInputError
from app.fhir.protocol import FhirGateway, Token

ParsedT = TypeVar("ParsedT")
AnswerT = TypeVar("AnswerT")

NOT_YOURS = "This Idempotency-Key was already used for another message."


async def create_first(
    fhir: FhirGateway,
    resource: Communication,
    *,
    identifier: Token,
    parse: Callable[[Communication], ParsedT],
    is_own: Callable[[ParsedT], bool],
) -> ParsedT:
    """FHIR's conditional create; FHIR's copy is the truth, and it must be the caller's."""
    created = await fhir.create_if_none_exist(resource, identifier=identifier)
    stored = parse(created.resource)
    if not is_own(stored):
        raise InvalidInputError(NOT_YOURS, field=("header", "Idempotency-Key"))
    return stored


async def project_once(
    session: AsyncSession,
    project: Callable[[], Awaitable[AnswerT]],
    *,
    projected_before: Callable[[], Awaitable[AnswerT | None]],
    keep: Sequence[object] = (),
) -> AnswerT:
    """Project in the request's transaction. When a unique key says the same resource was
    projected first by someone else (a concurrent retry, the reconciler), answer what they
    made; any other integrity error is a fault, not a twin, and is not explained away.
    `keep` names the rows the caller goes on using after such a conflict."""
    try:
        answer = await project()
        await session.flush()  # a conflict shows here, where it can be answered
        return answer
    except IntegrityError:
        await session.rollback()
        for row in keep:  # a rollback expires every loaded row; the caller's are used again
            await session.refresh(row)
        earlier = await projected_before()
        if earlier is None:
            raise
        return earlier
