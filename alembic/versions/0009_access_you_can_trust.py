"""access: grants that expire, a reason on refused audit rows, group membership that follows
organisation membership

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Before this revision leaving an organisation kept its team groups; such memberships gave
# access the organisation no longer did.
STRAY_GROUP_MEMBERS = """
DELETE FROM group_members WHERE NOT EXISTS (
    SELECT 1 FROM groups JOIN staff_memberships
        ON staff_memberships.organisation_id = groups.organisation_id
    WHERE groups.id = group_members.group_id AND staff_memberships.user_id = group_members.user_id
)
"""


def upgrade() -> None:
    op.add_column(
        "external_access_grants",
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
    )
    # The audit log is append-only: old rows keep their outcome words; readers map them.
    op.add_column("audit_events", sa.Column("reason", sa.String(length=64), nullable=True))
    op.create_index("ix_audit_events_action_time", "audit_events", ["action", "occurred_at"])
    op.execute(STRAY_GROUP_MEMBERS)


def downgrade() -> None:
    op.drop_index("ix_audit_events_action_time", table_name="audit_events")
    op.execute("ALTER TABLE audit_events DROP COLUMN reason")
    op.execute("ALTER TABLE external_access_grants DROP COLUMN expires_at")
