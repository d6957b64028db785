"""embedded fhir store

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 11:36:45.781732
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "fhir_resources",
        sa.Column("resource_type", sa.String(length=64), nullable=False),
        sa.Column("resource_id", sa.String(length=64), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("last_updated", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("resource_type", "resource_id", name=op.f("pk_fhir_resources")),
    )
    op.create_index(
        "ix_fhir_resources_type_updated",
        "fhir_resources",
        ["resource_type", "last_updated", "resource_id"],
        unique=False,
    )

    op.create_table(
        "fhir_conditional_creates",
        sa.Column("resource_type", sa.String(length=64), nullable=False),
        sa.Column("criteria", sa.String(length=512), nullable=False),
        sa.Column("resource_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["resource_type", "resource_id"],
            ["fhir_resources.resource_type", "fhir_resources.resource_id"],
            name=op.f("fk_fhir_conditional_creates_resource_type_fhir_resources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "resource_type", "criteria", name=op.f("pk_fhir_conditional_creates")
        ),
    )
    op.create_table(
        "fhir_resource_versions",
        sa.Column("resource_type", sa.String(length=64), nullable=False),
        sa.Column("resource_id", sa.String(length=64), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("last_updated", sa.DateTime(timezone=True), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["resource_type", "resource_id"],
            ["fhir_resources.resource_type", "fhir_resources.resource_id"],
            name=op.f("fk_fhir_resource_versions_resource_type_fhir_resources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "resource_type", "resource_id", "version_id", name=op.f("pk_fhir_resource_versions")
        ),
    )
    op.create_table(
        "fhir_search_tokens",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("resource_type", sa.String(length=64), nullable=False),
        sa.Column("resource_id", sa.String(length=64), nullable=False),
        sa.Column("param", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=512), nullable=False),
        sa.ForeignKeyConstraint(
            ["resource_type", "resource_id"],
            ["fhir_resources.resource_type", "fhir_resources.resource_id"],
            name=op.f("fk_fhir_search_tokens_resource_type_fhir_resources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fhir_search_tokens")),
    )
    op.create_index(
        "ix_fhir_search_tokens_lookup",
        "fhir_search_tokens",
        ["resource_type", "param", "value"],
        unique=False,
    )
    op.create_index(
        "ix_fhir_search_tokens_resource",
        "fhir_search_tokens",
        ["resource_type", "resource_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_table("fhir_search_tokens")
    op.drop_table("fhir_resource_versions")
    op.drop_table("fhir_conditional_creates")
    op.drop_table("fhir_resources")
