"""attachments on messages, and the live-events outbox

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 12:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
ATTACHMENT_COLUMNS = {
    "attachment_binary_id": sa.String(length=64),
    "attachment_content_type": sa.String(length=100),
    "attachment_size": sa.Integer(),
    "attachment_sha1": sa.String(length=40),
    "attachment_title": sa.String(length=200),
    "attachment_duration_ms": sa.Integer(),
}
BEFORE = "uuid, fhir_id, conversation_id, sender_id, type, body, amends_id, created_at"
AFTER = BEFORE + ", " + ", ".join(ATTACHMENT_COLUMNS)


def _update_guard(columns: str) -> None:
    """Make the append-only guard cover exactly `columns`."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER messages_no_update")
        op.execute(
            f"CREATE TRIGGER messages_no_update BEFORE UPDATE OF {columns} ON messages "
            "BEGIN SELECT RAISE(ABORT, 'messages are append-only: UPDATE refused'); END"
        )
    else:
        op.execute("DROP TRIGGER messages_no_update ON messages")
        op.execute(
            f"CREATE TRIGGER messages_no_update BEFORE UPDATE OF {columns} ON messages "
            "FOR EACH ROW EXECUTE FUNCTION parley_refuse_message_change()"
        )


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    op.create_index("ix_events_created_at", "events", ["created_at"])
    for name, kind in ATTACHMENT_COLUMNS.items():
        op.add_column("messages", sa.Column(name, kind, nullable=True))
    _update_guard(AFTER)


def downgrade() -> None:
    _update_guard(BEFORE)
    for name in reversed(ATTACHMENT_COLUMNS):
        op.execute(f"ALTER TABLE messages DROP COLUMN {name}")
    op.drop_table("events")
