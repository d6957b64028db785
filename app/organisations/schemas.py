from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

from app.directory.organisations import FeatureKey
from app.text import CleanLine

Name = Annotated[
    str, CleanLine, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
]
Kind = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z][a-z0-9_]{1,63}$")]
Place = Annotated[str, CleanLine, StringConstraints(strip_whitespace=True, max_length=200)]


class OrganisationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    type: Kind
    location: Place | None = None


class OrganisationUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    type: Kind | None = None
    location: Place | None = None


class OrganisationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    type: str
    location: str | None
    created_at: datetime
    updated_at: datetime


class MembershipUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    is_primary: bool = False


class StaffMembershipRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    organisation_id: int
    user_id: int
    is_primary: bool
    created_at: datetime


class PatientMembershipRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    organisation_id: int
    patient_id: str
    is_primary: bool
    created_at: datetime


class FeatureRead(BaseModel):
    key: FeatureKey
    enabled_by_id: int | None
    enabled_by_name: str | None
    enabled_at: datetime
