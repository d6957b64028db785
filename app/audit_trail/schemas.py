from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel


class Outcome(StrEnum):
    ALLOWED = "allowed"
    DENIED = "denied"


@dataclass(frozen=True)
class AuditFilter:
    patient_id: str | None = None
    user_id: int | None = None  # the actor, or the user acted upon
    action: str | None = None
    outcome: Outcome | None = None
    since: datetime | None = None
    until: datetime | None = None


class NamedRef(BaseModel):
    id: int | str
    name: str


class AuditEventRead(BaseModel):
    id: int
    at: datetime
    occurred_at: datetime  # the same as `at`, kept for earlier clients
    actor_id: int | None
    actor: NamedRef | None
    action: str
    outcome: Outcome
    reason: str | None  # why it was denied
    target_user_id: int | None
    patient_id: str | None
    patient: NamedRef | None
    conversation_id: int | None
    client_address: str | None
    details: dict[str, Any]
