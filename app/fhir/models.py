"""Tables of the embedded FHIR store: versioned JSON resources and their search index.

They live in Parley's database but belong to the store alone: no other code reads
them, exactly as if the resources lived on a separate FHIR server.
"""

from datetime import datetime

from sqlalchemy import ForeignKeyConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, BigIntId, UtcDateTime


class FhirResource(Base):
    """The current version of each resource."""

    __tablename__ = "fhir_resources"
    __table_args__ = (
        Index("ix_fhir_resources_type_updated", "resource_type", "last_updated", "resource_id"),
    )

    resource_type: Mapped[str] = mapped_column(String(64), primary_key=True)
    resource_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version_id: Mapped[int] = mapped_column(Integer)
    last_updated: Mapped[datetime] = mapped_column(UtcDateTime)


class FhirResourceVersion(Base):
    """Every version of every resource, as the JSON the server would answer."""

    __tablename__ = "fhir_resource_versions"
    __table_args__ = (
        ForeignKeyConstraint(
            ["resource_type", "resource_id"],
            ["fhir_resources.resource_type", "fhir_resources.resource_id"],
            ondelete="CASCADE",
        ),
    )

    resource_type: Mapped[str] = mapped_column(String(64), primary_key=True)
    resource_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_updated: Mapped[datetime] = mapped_column(UtcDateTime)
    content: Mapped[str] = mapped_column(Text)


class FhirSearchToken(Base):
    """One searchable value of the current version (`identifier`, `part-of`, …)."""

    __tablename__ = "fhir_search_tokens"
    __table_args__ = (
        ForeignKeyConstraint(
            ["resource_type", "resource_id"],
            ["fhir_resources.resource_type", "fhir_resources.resource_id"],
            ondelete="CASCADE",
        ),
        Index("ix_fhir_search_tokens_lookup", "resource_type", "param", "value"),
        Index("ix_fhir_search_tokens_resource", "resource_type", "resource_id"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    resource_type: Mapped[str] = mapped_column(String(64))
    resource_id: Mapped[str] = mapped_column(String(64))
    param: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(512))


class FhirConditionalCreate(Base):
    """The criteria a conditional create was made under; the primary key makes
    concurrent conditional creates of the same thing produce exactly one resource."""

    __tablename__ = "fhir_conditional_creates"
    __table_args__ = (
        ForeignKeyConstraint(
            ["resource_type", "resource_id"],
            ["fhir_resources.resource_type", "fhir_resources.resource_id"],
            ondelete="CASCADE",
        ),
    )

    resource_type: Mapped[str] = mapped_column(String(64), primary_key=True)
    criteria: Mapped[str] = mapped_column(String(512), primary_key=True)
    resource_id: Mapped[str] = mapped_column(String(64))
