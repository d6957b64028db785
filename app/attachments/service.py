"""Handing an attachment back: only to whoever may read its message."""

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.audit import log as audit
from app.audit.log import AuditEntry
from app.db import end_reads
from app.errors import NotFoundError
from app.fhir.protocol import FhirGateway
from app.messaging import repository as messages
from app.messaging.gate import load_view


@dataclass(frozen=True)
class Download:
    data: bytes
    content_type: str
    filename: str


async def download(
    session: AsyncSession, fhir: FhirGateway, user: User, attachment_id: int
) -> Download:
    message = await messages.find_message(session, attachment_id)
    if message is None or message.attachment_binary_id is None:
        raise NotFoundError("No such attachment.")
    try:
        view = await load_view(session, user, message.conversation_id)
    except NotFoundError:
        raise NotFoundError("No such attachment.") from None
    await end_reads(session)  # no connection held while FHIR answers
    binary = await fhir.read_binary(message.attachment_binary_id)
    audit.record(
        session,
        AuditEntry(
            action="attachments.read",
            actor_id=user.id,
            patient_id=view.conversation.patient_id,
            conversation_id=view.conversation.id,
            details={"message_id": message.id},
        ),
    )
    return Download(
        data=binary.data,
        # The type we checked on the way in, not whatever the store says now.
        content_type=message.attachment_content_type or "application/octet-stream",
        filename=message.attachment_title or "attachment",
    )
