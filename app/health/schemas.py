from typing import Literal

from pydantic import BaseModel

CheckResult = Literal["ok", "unavailable"]


class HealthRead(BaseModel):
    status: Literal["ok"] = "ok"


class ReadinessRead(BaseModel):
    status: Literal["ready"] = "ready"
    checks: dict[str, CheckResult]
