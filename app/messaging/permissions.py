"""Pure rules of conversations: who may write, close, reopen, join. No I/O."""

from dataclasses import dataclass
from enum import Enum

from app.access.actions import MESSAGE_PATIENTS
from app.access.policy import Actor
from app.messaging.models import ConversationStatus


@dataclass(frozen=True)
class ConversationFacts:
    status: ConversationStatus
    is_participant: bool
    messaging_on: bool
    patient_messaging_on: bool
    attachments_on: bool = False


class WriteRefusal(Enum):
    CLOSED = "The conversation is closed; staff can reopen it."
    NOT_PARTICIPANT = "Join the conversation before writing in it."
    NOT_PERMITTED = "You may not message patients."
    MESSAGING_OFF = "Messaging is off for this conversation's organisation."
    PATIENT_MESSAGING_OFF = "Patients cannot write here: patient messaging is off."


def write_refusal(actor: Actor, facts: ConversationFacts) -> WriteRefusal | None:
    """Why the actor may not write in the conversation, or None if they may."""
    if facts.status is ConversationStatus.CLOSED:
        return WriteRefusal.CLOSED
    if not facts.is_participant:
        return WriteRefusal.NOT_PARTICIPANT
    if not facts.messaging_on:
        return WriteRefusal.MESSAGING_OFF
    if is_patient(actor):
        return None if facts.patient_messaging_on else WriteRefusal.PATIENT_MESSAGING_OFF
    return None if MESSAGE_PATIENTS in actor.competencies else WriteRefusal.NOT_PERMITTED


def is_patient(actor: Actor) -> bool:
    return actor.patient_id is not None


def can_change_status(actor: Actor) -> bool:
    """Staff who may message patients close and reopen conversations; patients do not."""
    return not is_patient(actor) and MESSAGE_PATIENTS in actor.competencies
