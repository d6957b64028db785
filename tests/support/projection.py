"""Look at, and throw away, the SQL projection of conversations, as a reprojection test needs."""

from typing import Any

from sqlalchemy import text

from app.conversations.models import Conversation, ConversationOrganisation, ConversationParticipant
from app.db import Base, create_engine
from app.messaging.models import Message

# Every column of the projection is compared, but these: row ids (a rebuild numbers rows
# afresh; references are compared through Parley's UUIDs instead) and the read state that
# lives in SQL alone (who read what), which a rebuild starts afresh.
NOT_COMPARED = {"id", "last_read_at"}
# Columns that hold a row id of a projected table, compared as that row's UUID.
BY_UUID = {
    "conversation_id": "conversations",
    "last_message_id": "messages",
    "amends_id": "messages",
}
PROJECTED = (Conversation, ConversationParticipant, ConversationOrganisation, Message)


def _query(model: type[Base]) -> str:
    table = Base.metadata.tables[str(model.__tablename__)]
    columns = []
    for column in table.columns:
        if column.name in NOT_COMPARED:
            continue
        if column.name in BY_UUID:
            referenced = BY_UUID[column.name]
            columns.append(
                f"(SELECT r.uuid FROM {referenced} r WHERE r.id = t.{column.name}) AS {column.name}"
            )
        else:
            columns.append(f"t.{column.name}")
    listed = ", ".join(columns)
    return f"SELECT {listed} FROM {table.name} t"


SNAPSHOT = {model.__tablename__: _query(model) for model in PROJECTED}


async def snapshot(database_url: str) -> dict[str, list[tuple[Any, ...]]]:
    """The projection's content, keyed by Parley's UUIDs rather than row ids."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            # Sorted in Python: a rebuild may insert rows in another order.
            return {
                name: sorted(
                    (tuple(row) for row in await connection.execute(text(query))), key=repr
                )
                for name, query in SNAPSHOT.items()
            }
    finally:
        await engine.dispose()


async def drop_projection(database_url: str) -> None:
    """Delete every conversation row, getting past the append-only guard on messages."""
    engine = create_engine(database_url)
    sqlite = database_url.startswith("sqlite")
    try:
        async with engine.begin() as connection:
            if sqlite:
                await connection.execute(text("DROP TRIGGER messages_no_delete"))
            else:
                await connection.execute(
                    text("ALTER TABLE messages DISABLE TRIGGER messages_no_delete")
                )
            for statement in (
                "UPDATE conversations SET last_message_id = NULL",
                "DELETE FROM message_receipts",
                "DELETE FROM messages WHERE amends_id IS NOT NULL",
                "DELETE FROM messages",
                "DELETE FROM conversation_participants",
                "DELETE FROM conversation_organisations",
                "DELETE FROM conversations",
                "DELETE FROM idempotency_records",
            ):
                await connection.execute(text(statement))
            if not sqlite:
                await connection.execute(
                    text("ALTER TABLE messages ENABLE TRIGGER messages_no_delete")
                )
    finally:
        await engine.dispose()
