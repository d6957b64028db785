from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, BigIntId, UtcDateTime, utc_now


class Event(Base):
    """An outbox of live events, written in the transaction of the change it tells of.

    Ids order the stream and serve `Last-Event-ID`; old rows are pruned.
    """

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_created_at", "created_at"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    type: Mapped[str] = mapped_column(String(32))
    conversation_id: Mapped[int] = mapped_column(Integer)
    # Ids only, never message text: clients fetch what they may read through the API.
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
