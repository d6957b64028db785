from datetime import date, datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from app.directory.patients import AccessLevel
from app.ids import RowId
from app.text import CleanLine

NamePart = Annotated[
    str, CleanLine, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)
]


class PatientCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    given_name: NamePart
    family_name: NamePart
    birth_date: date | None = None
    organisation_id: RowId = Field(description="The organisation the patient joins (as primary).")


class PatientRead(BaseModel):
    id: str = Field(description="The FHIR Patient id.")
    given_name: str
    family_name: str
    birth_date: date | None
    is_active: bool
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
