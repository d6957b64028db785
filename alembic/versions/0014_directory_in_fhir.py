"""directory in FHIR: each staff user, organisation and team group remembers the FHIR
resource (Practitioner, Organization, Group) that stands for it, so that senders and
recipients are literal references another system can follow

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-27 23:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Empty until published: `parley publish-directory` fills in what existed before.
COLUMNS = (
    ("users", "fhir_practitioner_id"),
    ("organisations", "fhir_id"),
    ("groups", "fhir_id"),
)


def upgrade() -> None:
    for table, column in COLUMNS:
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column(column, sa.String(64), nullable=True))
            batch_op.create_unique_constraint(f"uq_{table}_{column}", [column])


def downgrade() -> None:
    for table, column in COLUMNS:
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(f"uq_{table}_{column}", type_="unique")
            batch_op.drop_column(column)
