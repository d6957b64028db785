"""browser sessions: a session cookie's hash on the login session

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("auth_sessions", sa.Column("web_token_hash", sa.String(length=64), nullable=True))
    op.create_index(
        "uq_auth_sessions_web_token_hash", "auth_sessions", ["web_token_hash"], unique=True
    )


def downgrade() -> None:
    op.drop_index("uq_auth_sessions_web_token_hash", table_name="auth_sessions")
    op.execute("ALTER TABLE auth_sessions DROP COLUMN web_token_hash")
