"""Organisations, the features they switch on, and who belongs to them."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UtcDateTime, utc_now

DEFAULT_TIMEZONE = "Europe/London"
DEFAULT_ESCALATE_AFTER_HOURS = 48.0


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # e.g. hospital, gp_practice, clinic; kept open so new kinds need no migration.
    type: Mapped[str] = mapped_column(String(64))
    location: Mapped[str | None] = mapped_column(String(200))
    # The FHIR Organization that stands for it, once published.
    fhir_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    # What patients are shown (app/organisations/settings.py); NULL means the default.
    display_name: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(32))
    timezone: Mapped[str] = mapped_column(
        String(64), default=DEFAULT_TIMEZONE, server_default=DEFAULT_TIMEZONE
    )
    reply_time_text: Mapped[str | None] = mapped_column(String(300))
    out_of_hours_text: Mapped[str | None] = mapped_column(String(500))
    emergency_text: Mapped[str | None] = mapped_column(String(300))
    # How long a patient may wait for a reply before their conversation is overdue (0: never).
    escalate_unanswered_after_hours: Mapped[float] = mapped_column(
        Float,
        default=DEFAULT_ESCALATE_AFTER_HOURS,
        server_default=str(DEFAULT_ESCALATE_AFTER_HOURS),
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now, onupdate=utc_now)


class StaffMembership(Base):
    __tablename__ = "staff_memberships"

    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)


class PatientMembership(Base):
    __tablename__ = "patient_memberships"

    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    patient_id: Mapped[str] = mapped_column(
        ForeignKey("patient_metadata.patient_id", ondelete="CASCADE"), primary_key=True, index=True
    )
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)


class OrganisationFeature(Base):
    """A feature switched on for an organisation: the row's existence is the switch."""

    __tablename__ = "organisation_features"

    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    enabled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    enabled_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)


class FeatureKey(StrEnum):
    MESSAGING = "messaging"  # conversations about this organisation's patients
    PATIENT_MESSAGING = "patient_messaging"  # patients may write
    ATTACHMENTS = "attachments"  # images and voice notes
