from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class AuditEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    occurred_at: datetime
    actor_id: int | None
    action: str
    outcome: str
    target_user_id: int | None
    patient_id: str | None
    conversation_id: int | None
    client_address: str | None
    details: dict[str, Any]
