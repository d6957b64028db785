import functools
import zoneinfo
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from app.directory.organisations import FeatureKey
from app.text import CleanLine

Name = Annotated[
    str, CleanLine, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
]
Kind = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z][a-z0-9_]{1,63}$")]
Place = Annotated[str, CleanLine, StringConstraints(strip_whitespace=True, max_length=200)]


Phone = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=3, max_length=32, pattern=r"^\+?[0-9 ()-]+$"
    ),
]
ShortText = Annotated[str, CleanLine, StringConstraints(strip_whitespace=True, max_length=300)]
LongerText = Annotated[str, CleanLine, StringConstraints(strip_whitespace=True, max_length=500)]


def _known_timezone(name: str) -> str:
    if name not in timezones():
        raise ValueError("an IANA timezone such as Europe/London")
    return name


@functools.cache
def timezones() -> frozenset[str]:
    """The IANA names known here (tzdata is a dependency, so a slim image knows them)."""
    return frozenset(zoneinfo.available_timezones())


Timezone = Annotated[str, AfterValidator(_known_timezone)]


class OrganisationSettings(BaseModel):
    """What patients are shown about the organisation (defaults filled in)."""

    display_name: str = Field(description="The name patients see; the name unless set.")
    phone: str | None
    timezone: str = Field(description="IANA timezone for times shown; Europe/London unless set.")
    reply_time_text: str | None = Field(description="How soon patients can expect a reply.")
    out_of_hours_text: str | None = Field(description="What to do when the practice is closed.")
    emergency_text: str = Field(
        description="Shown to patients wherever they write; a UK default unless set."
    )
    escalate_unanswered_after_hours: float = Field(
        description="Hours a patient may wait for a staff reply before their conversation "
        "is overdue (48 unless set; 0: never)."
    )


class OrganisationSettingsUpdate(BaseModel):
    """Only the settings given change; `null` puts one back to its default."""

    model_config = ConfigDict(extra="forbid")

    display_name: Name | None = None
    phone: Phone | None = None
    timezone: Timezone | None = None
    reply_time_text: ShortText | None = None
    out_of_hours_text: LongerText | None = None
    emergency_text: Annotated[ShortText, StringConstraints(min_length=10)] | None = None
    # Fractions are allowed (0.01 h is 36 s); a year is the most that means anything.
    escalate_unanswered_after_hours: Annotated[float, Field(ge=0, le=8760)] | None = None


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
    settings: OrganisationSettingsUpdate | None = None


class OrganisationRead(BaseModel):
    id: int
    name: str
    type: str
    location: str | None
    settings: OrganisationSettings
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
