"""patient identity: sex, NHS number, phone and other identifiers (each unique in its
system), and the folded words of each name, for search

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-27 23:50:00
"""

import re
import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _words(*parts: str) -> list[str]:
    """As app/patients/name_words.py folds them today (a migration keeps its own copy)."""
    folded = unicodedata.normalize("NFKD", " ".join(parts)).casefold()
    plain = "".join(char for char in folded if not unicodedata.combining(char))
    joined = re.findall(r"[a-z0-9]+", re.sub(r"['\u2019\u02bc`]", "", plain))
    return list(dict.fromkeys(joined + re.findall(r"[a-z0-9]+", plain)))


def upgrade() -> None:
    with op.batch_alter_table("patient_metadata") as batch_op:
        batch_op.add_column(sa.Column("sex", sa.String(16), nullable=True))
        batch_op.add_column(sa.Column("nhs_number", sa.String(10), nullable=True))
        batch_op.add_column(sa.Column("phone", sa.String(32), nullable=True))
        batch_op.create_unique_constraint(op.f("uq_patient_metadata_nhs_number"), ["nhs_number"])
    op.create_index(
        "ix_patient_metadata_birth_date",
        "patient_metadata",
        ["birth_date", "family_name", "given_name"],
    )
    op.create_table(
        "patient_identifiers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.String(length=64), nullable=False),
        sa.Column("system", sa.String(length=200), nullable=False),
        sa.Column("value", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patient_metadata.patient_id"],
            name=op.f("fk_patient_identifiers_patient_id_patient_metadata"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient_identifiers")),
        sa.UniqueConstraint("system", "value", name=op.f("uq_patient_identifiers_system_value")),
    )
    op.create_index(
        op.f("ix_patient_identifiers_patient_id"), "patient_identifiers", ["patient_id"]
    )
    word = sa.String(length=100).with_variant(sa.String(length=100, collation="C"), "postgresql")
    words = op.create_table(
        "patient_name_words",
        sa.Column("patient_id", sa.String(length=64), nullable=False),
        sa.Column("word", word, nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patient_metadata.patient_id"],
            name=op.f("fk_patient_name_words_patient_id_patient_metadata"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("patient_id", "word", name=op.f("pk_patient_name_words")),
    )
    op.create_index("ix_patient_name_words_word", "patient_name_words", ["word", "patient_id"])
    patients = op.get_bind().execute(
        sa.text("SELECT patient_id, given_name, family_name FROM patient_metadata")
    )
    rows = [
        {"patient_id": patient_id, "word": found}
        for patient_id, given, family in patients
        for found in _words(given, family)
    ]
    if rows:
        op.bulk_insert(words, rows)


def downgrade() -> None:
    op.drop_table("patient_name_words")
    op.drop_table("patient_identifiers")
    op.drop_index("ix_patient_metadata_birth_date", table_name="patient_metadata")
    with op.batch_alter_table("patient_metadata") as batch_op:
        batch_op.drop_constraint(op.f("uq_patient_metadata_nhs_number"), type_="unique")
        batch_op.drop_column("phone")
        batch_op.drop_column("nhs_number")
        batch_op.drop_column("sex")
