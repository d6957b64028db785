"""Look at, and throw away, the SQL projection of conversations, as a reprojection test needs."""

from typing import Any

from sqlalchemy import text

from app.db import create_engine

SNAPSHOT = {
    "conversations": """
        SELECT c.uuid, c.fhir_id, c.patient_id, c.subject, c.status, c.created_by_id,
               c.created_at, c.last_message_at, m.uuid AS last_message
        FROM conversations c LEFT JOIN messages m ON m.id = c.last_message_id
        ORDER BY c.uuid""",
    "participants": """
        SELECT c.uuid, p.user_id, p.group_id, p.role
        FROM conversation_participants p JOIN conversations c ON c.id = p.conversation_id
        ORDER BY c.uuid, p.user_id, p.group_id""",
    "organisations": """
        SELECT c.uuid, o.organisation_id
        FROM conversation_organisations o JOIN conversations c ON c.id = o.conversation_id
        ORDER BY c.uuid, o.organisation_id""",
    "messages": """
        SELECT m.uuid, m.fhir_id, c.uuid AS conversation, m.sender_id, m.type, m.body,
               a.uuid AS amends, m.created_at
        FROM messages m JOIN conversations c ON c.id = m.conversation_id
        LEFT JOIN messages a ON a.id = m.amends_id
        ORDER BY m.uuid""",
}


async def snapshot(database_url: str) -> dict[str, list[tuple[Any, ...]]]:
    """The projection's content, keyed by Parley's UUIDs rather than row ids."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            return {
                name: [tuple(row) for row in await connection.execute(text(query))]
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
