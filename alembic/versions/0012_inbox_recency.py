"""inbox recency: each participant and organisation row carries its conversation's
last_message_at, kept equal by triggers, so an inbox reads its candidates newest first
from an index of its own instead of testing every conversation

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27 16:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COPIES = ("conversation_participants", "conversation_organisations")

POSTGRESQL = [
    """
CREATE FUNCTION parley_copy_recency_down() RETURNS trigger AS $$
BEGIN
    UPDATE conversation_participants SET last_message_at = NEW.last_message_at
        WHERE conversation_id = NEW.id;
    UPDATE conversation_organisations SET last_message_at = NEW.last_message_at
        WHERE conversation_id = NEW.id;
    RETURN NULL;
END $$ LANGUAGE plpgsql""",
    """
CREATE TRIGGER conversations_recency AFTER UPDATE OF last_message_at ON conversations
    FOR EACH ROW WHEN (NEW.last_message_at IS DISTINCT FROM OLD.last_message_at)
    EXECUTE FUNCTION parley_copy_recency_down()""",
    """
CREATE FUNCTION parley_take_recency() RETURNS trigger AS $$
BEGIN
    NEW.last_message_at := (SELECT last_message_at FROM conversations
                            WHERE id = NEW.conversation_id);
    RETURN NEW;
END $$ LANGUAGE plpgsql""",
    *(
        f"""
CREATE TRIGGER {table}_recency BEFORE INSERT ON {table}
    FOR EACH ROW EXECUTE FUNCTION parley_take_recency()"""
        for table in COPIES
    ),
]

SQLITE = [
    """
CREATE TRIGGER conversations_recency AFTER UPDATE OF last_message_at ON conversations
    FOR EACH ROW WHEN NEW.last_message_at IS NOT OLD.last_message_at
BEGIN
    UPDATE conversation_participants SET last_message_at = NEW.last_message_at
        WHERE conversation_id = NEW.id;
    UPDATE conversation_organisations SET last_message_at = NEW.last_message_at
        WHERE conversation_id = NEW.id;
END""",
    *(
        f"""
CREATE TRIGGER {table}_recency AFTER INSERT ON {table}
BEGIN
    UPDATE {table} SET last_message_at =
        (SELECT last_message_at FROM conversations WHERE id = NEW.conversation_id)
        WHERE rowid = NEW.rowid;
END"""
        for table in COPIES
    ),
]


def upgrade() -> None:
    for table in COPIES:
        op.add_column(table, sa.Column("last_message_at", sa.DateTime(timezone=True)))
        op.execute(
            f"UPDATE {table} SET last_message_at = (SELECT last_message_at FROM conversations"
            f" WHERE conversations.id = {table}.conversation_id)"
        )
    op.create_index(
        "ix_conversation_participants_user_recency",
        "conversation_participants",
        ["user_id", "last_message_at", "conversation_id"],
    )
    op.create_index(
        "ix_conversation_participants_group_recency",
        "conversation_participants",
        ["group_id", "last_message_at", "conversation_id"],
    )
    op.create_index(
        "ix_conversation_organisations_recency",
        "conversation_organisations",
        ["organisation_id", "last_message_at", "conversation_id"],
    )
    statements = SQLITE if op.get_bind().dialect.name == "sqlite" else POSTGRESQL
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.execute("DROP TRIGGER conversations_recency" + ("" if sqlite else " ON conversations"))
    for table in COPIES:
        op.execute(f"DROP TRIGGER {table}_recency" + ("" if sqlite else f" ON {table}"))
    if not sqlite:
        op.execute("DROP FUNCTION parley_copy_recency_down()")
        op.execute("DROP FUNCTION parley_take_recency()")
    op.drop_index("ix_conversation_organisations_recency", "conversation_organisations")
    op.drop_index("ix_conversation_participants_group_recency", "conversation_participants")
    op.drop_index("ix_conversation_participants_user_recency", "conversation_participants")
    for table in COPIES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("last_message_at")
