from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.accounts.models import SystemPermission

# Lengths are checked by the password policy, with a message of its own; this only
# stops absurd payloads before they reach the hasher.
PasswordField = Annotated[str, StringConstraints(min_length=1, max_length=1024)]
# ASCII digits only: `\d` would also take Arabic-Indic or fullwidth digits.
TotpCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")]


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    password: PasswordField
    totp_code: TotpCode | None = None


class RefreshRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires.")


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: PasswordField
    new_password: PasswordField


class TotpSetupRead(BaseModel):
    secret: str
    otpauth_uri: str
    qr_svg: str = Field(description="The otpauth URI as a QR code, an SVG document.")


class TotpEnable(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: TotpCode


class TotpDisable(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: PasswordField
    code: TotpCode


class SessionRead(BaseModel):
    id: int
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    client_address: str | None
    user_agent: str | None
    current: bool


class OrganisationMembershipRead(BaseModel):
    id: int
    name: str
    is_primary: bool


class MeRead(BaseModel):
    id: int
    username: str
    full_name: str
    email: str
    system_permissions: SystemPermission
    base_profession: str
    competencies: list[str]
    organisations: list[OrganisationMembershipRead]
    fhir_patient_id: str | None
    totp_enabled: bool
