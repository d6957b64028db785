from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.ids import RowId
from app.text import CleanLine, CleanText

Name = Annotated[
    str, CleanLine, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
]
Description = Annotated[str, CleanText, StringConstraints(strip_whitespace=True, max_length=1000)]


class GroupCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    description: Description | None = None
    organisation_id: RowId
    member_ids: list[RowId] = Field(default_factory=list, max_length=200)


class GroupUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    description: Description | None = None


class MemberRead(BaseModel):
    id: int
    name: str


class GroupRead(BaseModel):
    id: int
    organisation_id: int
    name: str
    description: str | None
    members: list[MemberRead]
    created_at: datetime
    updated_at: datetime
