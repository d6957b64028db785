from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, BigIntId, UtcDateTime, utc_now
from app.types import JsonList, enum_values


class SystemPermission(StrEnum):
    """Levels, lowest first; a level includes what the ones below it may do."""

    PATIENT = "patient"
    STAFF = "staff"
    ADMIN = "admin"
    SUPERADMIN = "superadmin"


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    system_permissions: Mapped[SystemPermission] = mapped_column(
        Enum(
            SystemPermission,
            name="system_permission",
            native_enum=False,
            create_constraint=True,
            values_callable=enum_values,
            length=16,
        ),
        default=SystemPermission.STAFF,
    )
    base_profession: Mapped[str] = mapped_column(String(64))
    additional_competencies: Mapped[list[str]] = mapped_column(JsonList, default=list)
    removed_competencies: Mapped[list[str]] = mapped_column(JsonList, default=list)
    # Set for a patient's own portal login: the FHIR Patient this user is.
    fhir_patient_id: Mapped[str | None] = mapped_column(
        ForeignKey("patient_metadata.patient_id"), unique=True
    )
    # Set for staff once published: the FHIR Practitioner that names them as a sender or
    # recipient (a patient's portal login is named by its Patient instead).
    fhir_practitioner_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    totp_secret_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # The last RFC 6238 time step accepted, so that no code is ever accepted twice.
    totp_last_used_step: Mapped[int | None] = mapped_column(BigIntId)
    # Raised to end every session at once (deactivation, password change): access
    # tokens carry the version they were issued under and die when it moves.
    token_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now, onupdate=utc_now)


class AuthSession(Base):
    """One login: a family of refresh tokens, each replacing the last."""

    __tablename__ = "auth_sessions"
    __table_args__ = (Index("uq_auth_sessions_web_token_hash", "web_token_hash", unique=True),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    last_used_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    # Absolute: refreshing never extends it.
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(32))
    client_address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    # A browser's session cookie, kept as a SHA-256 like refresh tokens.
    web_token_hash: Mapped[str | None] = mapped_column(String(64))


class RefreshToken(Base):
    """A refresh token, kept only as a SHA-256 of its 256 random bits."""

    __tablename__ = "refresh_tokens"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    session_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("auth_sessions.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    # Set when it is exchanged; presenting it again is reuse, and revokes the family.
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
