"""escalation: how long each organisation lets a patient wait for a reply, when each
conversation turned overdue, and an index for the urgent run of staff inboxes

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


def upgrade() -> None:
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
    op.drop_index("ix_conversations_overdue_recency", table_name="conversations")
    op.drop_index("ix_conversations_waiting", table_name="conversations")
    op.drop_index("ix_conversations_urgent_recency", table_name="conversations")
    op.drop_column("conversations", "overdue_since")
    op.drop_column("organisations", "escalate_unanswered_after_hours")
