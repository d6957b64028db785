"""Pure mapping between Parley's rows and the FHIR records of conversations and messages."""

from datetime import UTC, datetime
from uuid import UUID

from app.auth.models import User
from app.fhir.resources import MessageRecord, Party
from app.messaging.models import (
    Message,
    MessageType,
)


def sent_now() -> datetime:
    """The server time of a send, to the millisecond: what every FHIR server keeps."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def party_of_user(user: User) -> Party:
    return Party(kind="user", id=user.id, patient_id=user.fhir_patient_id, display=user.full_name)


def text_message(
    *,
    uuid: UUID,
    header_fhir_id: str,
    patient_id: str,
    sender: User,
    sent: datetime,
    text: str,
    amends_fhir_id: str | None = None,
) -> MessageRecord:
    return MessageRecord(
        uuid=uuid,
        header_fhir_id=header_fhir_id,
        patient_id=patient_id,
        sender=party_of_user(sender),
        sent=sent,
        text=text,
        amends_fhir_id=amends_fhir_id,
    )


def preview(text: str | None, limit: int = 140) -> str:
    if text is None:
        return ""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def message_row(
    record: MessageRecord, conversation_id: int, sender_id: int, amends_id: int | None
) -> Message:
    attachment = record.attachment
    kind = MessageType.TEXT
    if attachment is not None:
        kind = (
            MessageType.IMAGE if attachment.content_type.startswith("image/") else MessageType.VOICE
        )
    return Message(
        uuid=record.uuid,
        fhir_id=record.fhir_id,
        conversation_id=conversation_id,
        sender_id=sender_id,
        type=kind,
        body=record.text,
        amends_id=amends_id,
        attachment_binary_id=attachment.binary_id if attachment else None,
        attachment_content_type=attachment.content_type if attachment else None,
        attachment_size=attachment.size if attachment else None,
        attachment_sha1=attachment.sha1_base64 if attachment else None,
        attachment_title=attachment.title if attachment else None,
        attachment_duration_ms=attachment.duration_ms if attachment else None,
        created_at=record.sent,
    )
