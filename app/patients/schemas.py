from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
)

from app.directory.patients import AccessLevel
from app.ids import RowId
from app.text import CleanLine

NamePart = Annotated[
    str, CleanLine, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)
]


EARLIEST_BIRTH_DATE = date(1900, 1, 1)


def _plausible_birth_date(value: date) -> date:
    # Today somewhere on Earth (UTC+14) may be tomorrow in UTC: a newborn is never refused.
    latest = (datetime.now(UTC) + timedelta(hours=14)).date()
    if value > latest:
        raise ValueError("a birth date cannot be in the future")
    if value < EARLIEST_BIRTH_DATE:
        raise ValueError("a birth date before 1900 is surely a typing error")
    return value


def _absolute_system(value: str) -> str:
    if not value.startswith(("http://", "https://", "urn:oid:", "urn:uuid:")):
        raise ValueError(
            "an identifier system is an absolute URI (http(s)://, urn:oid: or urn:uuid:)"
        )
    return value


BirthDate = Annotated[date, AfterValidator(_plausible_birth_date)]
Sex = Literal["male", "female", "other", "unknown"]
IdentifierSystem = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=9, max_length=200, pattern=r"^\S+$"),
    AfterValidator(_absolute_system),
]
IdentifierValue = Annotated[
    str, CleanLine, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)
]
Phone = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9][0-9 ()-]{5,30}$")
]


class Identifier(BaseModel):
    model_config = ConfigDict(extra="forbid")

    system: IdentifierSystem = Field(description="e.g. a hospital's URI for its numbers.")
    value: IdentifierValue


class PatientCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    given_name: NamePart
    family_name: NamePart
    birth_date: BirthDate | None = Field(default=None, description="From 1900, not in the future.")
    sex: Sex | None = None
    nhs_number: Annotated[str, StringConstraints(max_length=20)] | None = Field(
        default=None, description="10 digits, spaces allowed; must pass the Modulus 11 check."
    )
    identifiers: list[Identifier] = Field(default_factory=list, max_length=10)
    phone: Phone | None = None
    organisation_id: RowId = Field(description="The organisation the patient joins (as primary).")


class PatientRead(BaseModel):
    id: str = Field(description="The FHIR Patient id.")
    given_name: str
    family_name: str
    birth_date: date | None
    age: int | None = Field(description="Whole years today, from the birth date.")
    sex: Sex | None
    nhs_number: str | None = Field(description="10 digits, no spaces.")
    identifiers: list[Identifier] = Field(description="Other identifiers, with their systems.")
    phone: str | None
    is_active: bool
    has_portal_login: bool
    organisation_ids: list[int]


class AccessGrantCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: RowId
    access_level: AccessLevel = Field(
        default=AccessLevel.MESSAGE,
        description="`read`: the record and conversations, never writing; `message`: also "
        "writing where a participant.",
    )
    expires_at: AwareDatetime | None = Field(
        default=None, description="When the grant ends by itself; none: until revoked."
    )


class AccessGrantRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    patient_id: str
    user_id: int
    access_level: AccessLevel
    granted_by_id: int | None
    granted_at: datetime
    expires_at: datetime | None
