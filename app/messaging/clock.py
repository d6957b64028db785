"""The send clock: every message of a conversation gets a later time than the one before.

The time goes into the FHIR resource, so it is taken before the FHIR write, in the
transaction of the gate that allowed the send (committed before FHIR is called, so no
transaction waits on the network). A send that then fails leaves only an unused
millisecond behind. It makes a thread's order one and the same in SQL and in FHIR.
"""

from datetime import UTC, datetime

from sqlalchemy import case, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.messaging.models import Conversation


def now_to_the_millisecond() -> datetime:
    """The server time of a send, to the millisecond: what every FHIR server keeps."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


async def reserve_send_time(session: AsyncSession, conversation_id: int) -> datetime:
    """Now, or one millisecond after the last time handed out, whichever is later."""
    now_ms = int(now_to_the_millisecond().timestamp() * 1000)
    reserved = await session.scalar(
        update(Conversation)
        .where(Conversation.id == conversation_id)
        .values(
            last_sent_ms=case(
                (Conversation.last_sent_ms >= now_ms, Conversation.last_sent_ms + 1), else_=now_ms
            )
        )
        .returning(Conversation.last_sent_ms)
        .execution_options(synchronize_session=False)
    )
    return datetime.fromtimestamp((reserved or now_ms) / 1000, UTC)
