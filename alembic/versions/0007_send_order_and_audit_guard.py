"""a per-conversation send clock, and the audit log made append-only

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 14:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

POSTGRES_AUDIT_GUARD = """
CREATE FUNCTION parley_refuse_audit_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: % refused', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION parley_refuse_audit_change();
"""
SQLITE_AUDIT_GUARD = [
    """CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: UPDATE refused'); END""",
    """CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: DELETE refused'); END""",
]


def upgrade() -> None:
    op.add_column("conversations", sa.Column("last_sent_ms", sa.BigInteger(), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_AUDIT_GUARD:
            op.execute(statement)
    else:
        op.execute(POSTGRES_AUDIT_GUARD)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER audit_events_no_update")
        op.execute("DROP TRIGGER audit_events_no_delete")
        op.execute("ALTER TABLE conversations DROP COLUMN last_sent_ms")
    else:
        op.execute("DROP TRIGGER audit_events_no_change ON audit_events")
        op.execute("DROP FUNCTION parley_refuse_audit_change()")
        op.drop_column("conversations", "last_sent_ms")
