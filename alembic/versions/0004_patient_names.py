"""patient names and birth date projected from FHIR into patient_metadata

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 12:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("patient_metadata") as batch_op:
        # Existing rows (there are none before this release) would need a reprojection.
        batch_op.add_column(
            sa.Column("given_name", sa.String(length=100), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("family_name", sa.String(length=100), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("birth_date", sa.Date(), nullable=True))
    op.create_index(
        "ix_patient_metadata_name", "patient_metadata", ["family_name", "given_name", "patient_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_patient_metadata_name", table_name="patient_metadata")
    with op.batch_alter_table("patient_metadata") as batch_op:
        batch_op.drop_column("birth_date")
        batch_op.drop_column("family_name")
        batch_op.drop_column("given_name")
