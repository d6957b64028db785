"""Bounds on row ids taken from requests, matching the columns they are looked up in.

An id beyond its column's range cannot name a row; checked here, it is a 422
instead of an overflow in the database driver.
"""

from typing import Annotated

from fastapi import Form, Path, Query
from pydantic import Field

INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1

RowId = Annotated[int, Field(ge=1, le=INT32_MAX)]
BigRowId = Annotated[int, Field(ge=1, le=INT64_MAX)]
PathId = Annotated[int, Path(ge=1, le=INT32_MAX)]
BigPathId = Annotated[int, Path(ge=1, le=INT64_MAX)]
QueryId = Annotated[int | None, Query(ge=1, le=INT32_MAX)]
FormId = Annotated[int, Form(ge=1, le=INT32_MAX)]


# FHIR's own rule for resource ids: what the patient_metadata column can hold, and nothing
# (NUL, controls) that PostgreSQL would refuse with an error.
PATIENT_ID_PATTERN = r"^[A-Za-z0-9\-.]{1,64}$"
PatientPathId = Annotated[str, Path(pattern=PATIENT_ID_PATTERN, description="The FHIR Patient id.")]
PatientQueryId = Annotated[str | None, Query(pattern=PATIENT_ID_PATTERN)]
# A page's filter or form field, where empty means "none".
OPTIONAL_PATIENT_ID_PATTERN = r"^[A-Za-z0-9\-.]{0,64}$"


def in_int32(value: int) -> bool:
    return 1 <= value <= INT32_MAX
