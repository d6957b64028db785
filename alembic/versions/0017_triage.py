"""care-team triage: a conversation's priority and how long its patient has waited, and
its task (assignee, done) beside it

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-28 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN: a batch rebuild of `conversations` on SQLite would trip the
    # triggers that copy its recency onto participants (migration 0012).
    op.add_column(
        "conversations",
        sa.Column(
            "priority",
            sa.Enum(
                "routine",
                "urgent",
                name="conversation_priority",
                native_enum=False,
                # SQLite adds no CHECK to an existing table: there the type keeps the values.
                create_constraint=op.get_context().dialect.name != "sqlite",
                length=16,
            ),
            nullable=False,
            server_default="routine",
        ),
    )
    op.add_column(
        "conversations",
        sa.Column("awaiting_reply_since", sa.DateTime(timezone=True), nullable=True),
    )
    # How long each patient has waited already: their oldest message after the last reply
    # from a clinician (a staff user's message that is not a correction), as a send keeps
    # it. Another system's senders are not known here; they are not counted as replies.
    op.execute(
        """
        UPDATE conversations SET awaiting_reply_since = (
            SELECT MIN(m.created_at) FROM messages m JOIN users u ON u.id = m.sender_id
            WHERE m.conversation_id = conversations.id AND u.system_permissions = 'patient'
              AND NOT EXISTS (
                SELECT 1 FROM messages r JOIN users ru ON ru.id = r.sender_id
                WHERE r.conversation_id = conversations.id AND r.created_at >= m.created_at
                  AND ru.system_permissions <> 'patient' AND r.amends_id IS NULL
              )
        )
        WHERE EXISTS (
            SELECT 1 FROM messages p JOIN users pu ON pu.id = p.sender_id
            WHERE p.conversation_id = conversations.id AND pu.system_permissions = 'patient'
        )
        """
    )
    op.create_table(
        "conversation_tasks",
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("fhir_id", sa.String(length=64), nullable=False),
        sa.Column("assignee_user_id", sa.Integer(), nullable=True),
        sa.Column("assignee_group_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "requested",
                "completed",
                name="task_status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_by_id", sa.Integer(), nullable=True),
        sa.Column("done_note", sa.String(length=1000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "assignee_user_id IS NULL OR assignee_group_id IS NULL",
            name=op.f("ck_conversation_tasks_one_assignee"),
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_conversation_tasks_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["assignee_user_id"],
            ["users.id"],
            name=op.f("fk_conversation_tasks_assignee_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["assignee_group_id"],
            ["groups.id"],
            name=op.f("fk_conversation_tasks_assignee_group_id_groups"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["done_by_id"],
            ["users.id"],
            name=op.f("fk_conversation_tasks_done_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_conversation_tasks")),
        sa.UniqueConstraint("fhir_id", name=op.f("uq_conversation_tasks_fhir_id")),
    )
    op.create_index(
        op.f("ix_conversation_tasks_assignee_user_id"), "conversation_tasks", ["assignee_user_id"]
    )
    op.create_index(
        op.f("ix_conversation_tasks_assignee_group_id"),
        "conversation_tasks",
        ["assignee_group_id"],
    )


def downgrade() -> None:
    op.drop_table("conversation_tasks")
    op.drop_column("conversations", "awaiting_reply_since")
    op.drop_column("conversations", "priority")
