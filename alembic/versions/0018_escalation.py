"""escalation and urgency: how long each organisation lets a patient wait for a reply,
when each conversation turned overdue; and each conversation's urgency copied, like its
recency (0012), onto its participant and organisation rows, whose inbox indexes now read
urgent ones first

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-28 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


COPIES = ("conversation_participants", "conversation_organisations")
KEYS = {
    "ix_conversation_participants_user_recency": ("conversation_participants", "user_id"),
    "ix_conversation_participants_group_recency": ("conversation_participants", "group_id"),
    "ix_conversation_organisations_recency": ("conversation_organisations", "organisation_id"),
}

POSTGRESQL = [
    """
CREATE FUNCTION parley_copy_urgency_down() RETURNS trigger AS $$
BEGIN
    UPDATE conversation_participants SET urgent = (NEW.priority = 'urgent')
        WHERE conversation_id = NEW.id;
    UPDATE conversation_organisations SET urgent = (NEW.priority = 'urgent')
        WHERE conversation_id = NEW.id;
    RETURN NULL;
END $$ LANGUAGE plpgsql""",
    """
CREATE TRIGGER conversations_urgency AFTER UPDATE OF priority ON conversations
    FOR EACH ROW WHEN (NEW.priority IS DISTINCT FROM OLD.priority)
    EXECUTE FUNCTION parley_copy_urgency_down()""",
    # A new row takes both copies from its conversation (0012's function, widened).
    """
CREATE OR REPLACE FUNCTION parley_take_recency() RETURNS trigger AS $$
BEGIN
    SELECT last_message_at, priority = 'urgent' INTO NEW.last_message_at, NEW.urgent
        FROM conversations WHERE id = NEW.conversation_id;
    RETURN NEW;
END $$ LANGUAGE plpgsql""",
]

SQLITE = [
    """
CREATE TRIGGER conversations_urgency AFTER UPDATE OF priority ON conversations
    FOR EACH ROW WHEN NEW.priority IS NOT OLD.priority
BEGIN
    UPDATE conversation_participants SET urgent = (NEW.priority = 'urgent')
        WHERE conversation_id = NEW.id;
    UPDATE conversation_organisations SET urgent = (NEW.priority = 'urgent')
        WHERE conversation_id = NEW.id;
END""",
    *(
        f"""
CREATE TRIGGER {table}_urgency AFTER INSERT ON {table}
BEGIN
    UPDATE {table} SET urgent =
        (SELECT priority = 'urgent' FROM conversations WHERE id = NEW.conversation_id)
        WHERE rowid = NEW.rowid;
END"""
        for table in COPIES
    ),
]


def upgrade() -> None:
    for table in COPIES:
        op.add_column(
            table, sa.Column("urgent", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        op.execute(
            f"UPDATE {table} SET urgent = (SELECT priority = 'urgent' FROM conversations"
            f" WHERE conversations.id = {table}.conversation_id)"
        )
    for name, (table, key) in KEYS.items():
        op.drop_index(name, table_name=table)
        op.create_index(name, table, [key, "urgent", "last_message_at", "conversation_id"])
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in SQLITE if sqlite else POSTGRESQL:
        op.execute(statement)
    # A message sent as urgent (its Communication's priority).
    op.add_column(
        "messages", sa.Column("urgent", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.add_column(
        "organisations",
        sa.Column(
            "escalate_unanswered_after_hours", sa.Float(), nullable=False, server_default="48.0"
        ),
    )
    # Plain ADD COLUMN on conversations (see 0017: a batch rebuild trips 0012's triggers).
    op.add_column(
        "conversations", sa.Column("overdue_since", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_index(
        "ix_conversations_urgent_recency",
        "conversations",
        ["last_message_at", "id"],
        postgresql_where=sa.text("priority = 'urgent'"),
        sqlite_where=sa.text("priority = 'urgent'"),
    )
    # The escalation job's search: waits that have not been escalated yet.
    op.create_index(
        "ix_conversations_waiting",
        "conversations",
        ["awaiting_reply_since"],
        postgresql_where=sa.text("awaiting_reply_since IS NOT NULL"),
        sqlite_where=sa.text("awaiting_reply_since IS NOT NULL"),
    )
    op.create_index(
        "ix_conversations_overdue_recency",
        "conversations",
        ["last_message_at", "id"],
        postgresql_where=sa.text("overdue_since IS NOT NULL"),
        sqlite_where=sa.text("overdue_since IS NOT NULL"),
    )


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.execute("DROP TRIGGER conversations_urgency" + ("" if sqlite else " ON conversations"))
    if sqlite:
        for table in COPIES:
            op.execute(f"DROP TRIGGER {table}_urgency")
    else:
        op.execute("DROP FUNCTION parley_copy_urgency_down()")
        op.execute(
            """
CREATE OR REPLACE FUNCTION parley_take_recency() RETURNS trigger AS $$
BEGIN
    NEW.last_message_at := (SELECT last_message_at FROM conversations
                            WHERE id = NEW.conversation_id);
    RETURN NEW;
END $$ LANGUAGE plpgsql"""
        )
    for name, (table, key) in KEYS.items():
        op.drop_index(name, table_name=table)
        op.create_index(name, table, [key, "last_message_at", "conversation_id"])
    for table in COPIES:
        # Plain DROP COLUMN (SQLite 3.35+): a batch rebuild would trip 0012's triggers.
        op.drop_column(table, "urgent")
    op.drop_index("ix_conversations_overdue_recency", table_name="conversations")
    op.drop_index("ix_conversations_waiting", table_name="conversations")
    op.drop_index("ix_conversations_urgent_recency", table_name="conversations")
    op.drop_column("conversations", "overdue_since")
    op.drop_column("messages", "urgent")
    op.drop_column("organisations", "escalate_unanswered_after_hours")
