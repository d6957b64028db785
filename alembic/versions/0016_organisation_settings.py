"""organisation settings that patients see (display name, phone, timezone, reply time,
out-of-hours and emergency advice); name words folded again, as search now folds them

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-28 02:30:00
"""

import re
import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LATIN = str.maketrans(
    {"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "\u0131": "i"}
)
_APOSTROPHES = r"['\u2019\u2018\u02bc`\u00b4]"


def _words(*parts: str) -> list[str]:
    """As app/patients/name_words.py folds them today (a migration keeps its own copy):
    letters of every script, and ø, æ, ł and the like as the letters they are read as."""
    decomposed = unicodedata.normalize("NFKD", " ".join(parts)).casefold().translate(_LATIN)
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    joined = re.findall(r"[^\W_]+", re.sub(_APOSTROPHES, "", plain))
    return list(dict.fromkeys(word[:100] for word in joined + re.findall(r"[^\W_]+", plain)))


def upgrade() -> None:
    with op.batch_alter_table("organisations") as batch_op:
        batch_op.add_column(sa.Column("display_name", sa.String(200), nullable=True))
        batch_op.add_column(sa.Column("phone", sa.String(32), nullable=True))
        batch_op.add_column(
            sa.Column("timezone", sa.String(64), nullable=False, server_default="Europe/London")
        )
        batch_op.add_column(sa.Column("reply_time_text", sa.String(300), nullable=True))
        batch_op.add_column(sa.Column("out_of_hours_text", sa.String(500), nullable=True))
        batch_op.add_column(sa.Column("emergency_text", sa.String(300), nullable=True))
    bind = op.get_bind()
    names = bind.execute(
        sa.text("SELECT patient_id, given_name, family_name FROM patient_metadata")
    ).all()
    bind.execute(sa.text("DELETE FROM patient_name_words"))
    rows = [
        {"patient_id": patient_id, "word": found}
        for patient_id, given, family in names
        for found in _words(given, family)
    ]
    if rows:
        words = sa.table("patient_name_words", sa.column("patient_id"), sa.column("word"))
        op.bulk_insert(words, rows)


def downgrade() -> None:
    with op.batch_alter_table("organisations") as batch_op:
        for column in (
            "emergency_text",
            "out_of_hours_text",
            "reply_time_text",
            "timezone",
            "phone",
            "display_name",
        ):
            batch_op.drop_column(column)
