from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from app.accounts.models import SystemPermission
from app.auth.schemas import PasswordField
from app.text import CleanLine


def _lower(value: str) -> str:
    return value.lower()


Username = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$"),
    AfterValidator(_lower),
]
Email = Annotated[EmailStr, AfterValidator(_lower)]
FullName = Annotated[
    str, CleanLine, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,63}$")]
PatientId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9\-.]{1,64}$")]


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Username
    email: Email
    full_name: FullName
    password: PasswordField
    system_permissions: SystemPermission
    base_profession: Slug
    additional_competencies: list[Slug] = Field(default_factory=list, max_length=50)
    removed_competencies: list[Slug] = Field(default_factory=list, max_length=50)
    fhir_patient_id: PatientId | None = None


class UserUpdate(BaseModel):
    """Only the fields given change; username, password and state have calls of their own."""

    model_config = ConfigDict(extra="forbid")

    email: Email | None = None
    full_name: FullName | None = None
    system_permissions: SystemPermission | None = None
    base_profession: Slug | None = None
    additional_competencies: list[Slug] | None = Field(default=None, max_length=50)
    removed_competencies: list[Slug] | None = Field(default=None, max_length=50)


class UserRead(BaseModel):
    id: int
    username: str
    full_name: str
    email: str
    system_permissions: SystemPermission
    base_profession: str
    additional_competencies: list[str]
    removed_competencies: list[str]
    competencies: list[str] = Field(description="Final: base profession + additional - removed.")
    fhir_patient_id: str | None
    is_active: bool
    totp_enabled: bool
    created_at: datetime
    updated_at: datetime
