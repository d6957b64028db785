"""Triage tests run the app's escalation passes often, so a test sees them within a
second instead of the default half-minute."""

import pytest

from app.config import Settings

ESCALATION_PASS_SECONDS = 0.2


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"notify_seconds": ESCALATION_PASS_SECONDS})
