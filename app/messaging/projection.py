"""Pure mapping between Parley's rows and the FHIR records of conversations and messages."""

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from app.access import service as access
from app.accounts.models import User
from app.fhir.resources import MessageRecord, Party


def party_of_user(user: User) -> Party:
    """A user as FHIR names them: a patient-level account also names its Patient."""
    patient_id = access.patient_acted_as(user.system_permissions, user.fhir_patient_id)
    return Party(
        kind="user",
        id=user.id,
        patient_id=patient_id,
        display=user.full_name,
        resource=_practitioner(user.fhir_practitioner_id) if patient_id is None else None,
    )


def _practitioner(fhir_id: str | None) -> str | None:
    return f"Practitioner/{fhir_id}" if fhir_id is not None else None


def recipients_of(participants: Sequence[Party], sender: User) -> tuple[Party, ...]:
    """Everyone taking part but the sender: whom a message is for."""
    return tuple(party for party in participants if (party.kind, party.id) != ("user", sender.id))


def text_message(
    *,
    uuid: UUID,
    header_fhir_id: str,
    patient_id: str,
    sender: User,
    recipients: tuple[Party, ...],
    sent: datetime,
    text: str,
    amends_fhir_id: str | None = None,
    priority: str | None = None,
) -> MessageRecord:
    return MessageRecord(
        uuid=uuid,
        header_fhir_id=header_fhir_id,
        patient_id=patient_id,
        sender=party_of_user(sender),
        recipients=recipients,
        sent=sent,
        text=text,
        amends_fhir_id=amends_fhir_id,
        priority=priority,
    )


def preview(text: str | None, limit: int = 140) -> str:
    if text is None:
        return ""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
