"""The send clock: every message of a conversation gets a later time than the one before.

The time goes into the FHIR resource, so it is taken before the FHIR write, in the
transaction of the gate that allowed the send (committed before FHIR is called, so no
transaction waits on the network). A send that then fails leaves only an unused
millisecond behind. It makes a thread's order one and the same in SQL and in FHIR.
"""

from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, case, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.conversations.models import Conversation

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_ms(moment: datetime) -> int:
    """Milliseconds since the epoch, exactly (a float timestamp can land one below)."""
    return (moment - EPOCH) // timedelta(milliseconds=1)


def now_to_the_millisecond() -> datetime:
    """The server time of a send, to the millisecond: what every FHIR server keeps."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


# Built once: its values are bound at execution.
_RESERVE = (
    update(Conversation)
    .where(Conversation.id == bindparam("conversation"))
    .values(
        last_sent_ms=case(
            (Conversation.last_sent_ms >= bindparam("now_ms"), Conversation.last_sent_ms + 1),
            else_=bindparam("now_ms"),
        )
    )
    .returning(Conversation.last_sent_ms)
)


async def reserve_send_time(session: AsyncSession, conversation_id: int) -> datetime:
    """Now, or one millisecond after the last time handed out, whichever is later."""
    now_ms = epoch_ms(now_to_the_millisecond())
    connection = await session.connection()
    reserved = await connection.scalar(
        _RESERVE, {"conversation": conversation_id, "now_ms": now_ms}
    )
    return EPOCH + timedelta(milliseconds=reserved or now_ms)
