"""messaging: idempotency records, last message pointer, append-only message guard

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 13:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
IMMUTABLE = "uuid, fhir_id, conversation_id, sender_id, type, body, amends_id, created_at"

# Messages are append-only: the database itself refuses to rewrite or delete one.
# Only the redaction columns may change.
POSTGRES_GUARD = f"""
CREATE FUNCTION parley_refuse_message_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'messages are append-only: % of message % refused', TG_OP, OLD.id
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER messages_no_update BEFORE UPDATE OF {IMMUTABLE} ON messages
    FOR EACH ROW EXECUTE FUNCTION parley_refuse_message_change();
CREATE TRIGGER messages_no_delete BEFORE DELETE ON messages
    FOR EACH ROW EXECUTE FUNCTION parley_refuse_message_change();
"""
SQLITE_GUARD = [
    f"""CREATE TRIGGER messages_no_update BEFORE UPDATE OF {IMMUTABLE} ON messages
    BEGIN SELECT RAISE(ABORT, 'messages are append-only: UPDATE refused'); END""",
    """CREATE TRIGGER messages_no_delete BEFORE DELETE ON messages
    BEGIN SELECT RAISE(ABORT, 'messages are append-only: DELETE refused'); END""",
]


def upgrade() -> None:
    op.create_table(
        "idempotency_records",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("request", sa.String(length=300), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response_body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_idempotency_records_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_records")),
        sa.UniqueConstraint("user_id", "key", name=op.f("uq_idempotency_records_user_id_key")),
    )
    if op.get_bind().dialect.name == "sqlite":
        # ADD COLUMN ... REFERENCES works in place; a batch rebuild of this much
        # referenced table would cascade-delete its children.
        op.execute(
            "ALTER TABLE conversations ADD COLUMN last_message_id INTEGER "
            "CONSTRAINT fk_conversations_last_message_id REFERENCES messages (id)"
        )
        for statement in SQLITE_GUARD:
            op.execute(statement)
    else:
        op.add_column("conversations", sa.Column("last_message_id", BIG_ID, nullable=True))
        op.create_foreign_key(
            "fk_conversations_last_message_id",
            "conversations",
            "messages",
            ["last_message_id"],
            ["id"],
        )
        op.execute(POSTGRES_GUARD)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER messages_no_update")
        op.execute("DROP TRIGGER messages_no_delete")
        with op.batch_alter_table("conversations") as batch_op:
            batch_op.drop_column("last_message_id")
    else:
        op.execute("DROP TRIGGER messages_no_update ON messages")
        op.execute("DROP TRIGGER messages_no_delete ON messages")
        op.execute("DROP FUNCTION parley_refuse_message_change()")
        op.drop_constraint("fk_conversations_last_message_id", "conversations", type_="foreignkey")
        op.drop_column("conversations", "last_message_id")
    op.drop_table("idempotency_records")
