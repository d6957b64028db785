"""Patients as Parley knows them beside FHIR, and access granted to them from outside."""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UtcDateTime, utc_now
from app.types import string_enum


class PatientMetadata(Base):
    """What Parley keeps beside the FHIR Patient, which stays the record of the person."""

    __tablename__ = "patient_metadata"
    __table_args__ = (
        Index("ix_patient_metadata_name", "family_name", "given_name", "patient_id"),
        # Search by birth date, in the order lists show.
        Index("ix_patient_metadata_birth_date", "birth_date", "family_name", "given_name"),
    )

    patient_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # A projection of the FHIR Patient's name and birth date, so lists need no FHIR call.
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    birth_date: Mapped[date | None] = mapped_column(Date)
    # FHIR's administrative gender: male, female, other, unknown.
    sex: Mapped[str | None] = mapped_column(String(16))
    # Ten digits, no spaces; one patient each (also an identifier of the FHIR Patient).
    nhs_number: Mapped[str | None] = mapped_column(String(10), unique=True)
    phone: Mapped[str | None] = mapped_column(String(32))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now, onupdate=utc_now)


class PatientIdentifier(Base):
    """Another identifier of a patient (a hospital number, say), under its system; one
    patient each, so a second registration of the same person is refused."""

    __tablename__ = "patient_identifiers"
    __table_args__ = (UniqueConstraint("system", "value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[str] = mapped_column(
        ForeignKey("patient_metadata.patient_id", ondelete="CASCADE"), index=True
    )
    system: Mapped[str] = mapped_column(String(200))
    value: Mapped[str] = mapped_column(String(100))


# Compared byte by byte on PostgreSQL, so a prefix is one range of an ordinary index.
SearchWord = String(100).with_variant(String(100, collation="C"), "postgresql")


class PatientNameWord(Base):
    """Each word of a patient's name, folded for search (`app/patients/name_words.py`)."""

    __tablename__ = "patient_name_words"
    __table_args__ = (Index("ix_patient_name_words_word", "word", "patient_id"),)

    patient_id: Mapped[str] = mapped_column(
        ForeignKey("patient_metadata.patient_id", ondelete="CASCADE"), primary_key=True
    )
    word: Mapped[str] = mapped_column(SearchWord, primary_key=True)


class AccessLevel(StrEnum):
    READ = "read"
    MESSAGE = "message"


class ExternalAccessGrant(Base):
    """Access to one patient for a user outside the patient's organisations."""

    __tablename__ = "external_access_grants"
    __table_args__ = (
        # At most one live grant per (patient, user); revoked ones stay as history.
        Index(
            "uq_external_access_grants_live",
            "patient_id",
            "user_id",
            unique=True,
            sqlite_where=text("revoked_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[str] = mapped_column(
        ForeignKey("patient_metadata.patient_id", ondelete="CASCADE")
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    access_level: Mapped[AccessLevel] = mapped_column(
        string_enum(AccessLevel, "access_level"),
        default=AccessLevel.MESSAGE,
    )
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    granted_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # none: until revoked
