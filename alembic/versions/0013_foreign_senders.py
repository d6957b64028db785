"""foreign senders: a message another system wrote into a Parley thread has no Parley
user; it keeps the name its sender gave (or its resource's), and names someone always

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-27 20:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

IMMUTABLE = (
    "uuid, fhir_id, conversation_id, sender_id, type, body, amends_id, created_at, "
    "attachment_binary_id, attachment_content_type, attachment_size, attachment_sha1, "
    "attachment_title, attachment_duration_ms"
)
REFUSE = "BEGIN SELECT RAISE(ABORT, 'messages are append-only: {} refused'); END"


def _guard(columns: str) -> None:
    """The append-only guard over exactly `columns`. SQLite loses a table's triggers when
    a batch operation rebuilds it, so there both are made again."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS messages_no_update")
        op.execute("DROP TRIGGER IF EXISTS messages_no_delete")
        op.execute(
            f"CREATE TRIGGER messages_no_update BEFORE UPDATE OF {columns} ON messages "
            + REFUSE.format("UPDATE")
        )
        op.execute(
            "CREATE TRIGGER messages_no_delete BEFORE DELETE ON messages " + REFUSE.format("DELETE")
        )
        return
    op.execute("DROP TRIGGER messages_no_update ON messages")
    op.execute(
        f"CREATE TRIGGER messages_no_update BEFORE UPDATE OF {columns} ON messages "
        "FOR EACH ROW EXECUTE FUNCTION parley_refuse_message_change()"
    )


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch_op:
        batch_op.add_column(sa.Column("sender_display", sa.String(200), nullable=True))
        batch_op.alter_column("sender_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_check_constraint(
            "sender_named", "sender_id IS NOT NULL OR sender_display IS NOT NULL"
        )
    _guard(IMMUTABLE + ", sender_display")


def downgrade() -> None:
    if op.get_bind().scalar(sa.text("SELECT count(*) FROM messages WHERE sender_id IS NULL")):
        raise RuntimeError(
            "Messages from other systems have no Parley sender to fall back on, and "
            "messages are never deleted: restore a backup taken before revision 0013."
        )
    _guard(IMMUTABLE)  # PostgreSQL drops no column a trigger names
    with op.batch_alter_table("messages") as batch_op:
        batch_op.drop_constraint(op.f("ck_messages_sender_named"), type_="check")
        batch_op.alter_column("sender_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("sender_display")
    _guard(IMMUTABLE)  # SQLite rebuilt the table without its triggers
