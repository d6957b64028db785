"""Refusals as a patient reads them: what happened in plain words, and what to do next,
because a patient who cannot send a message may still need an answer today."""

from app.access.actions import FEATURE_NAMES
from app.directory.organisations import FeatureKey
from app.errors import AppError
from app.messaging.gate import CLOSED
from app.organisations.schemas import OrganisationSettings

# Refusals about what the patient sent (empty, too large, a file of a kind not taken):
# their own words say what to change.
ABOUT_WHAT_WAS_SENT = frozenset({413, 415, 422})


def next_step(practices: list[OrganisationSettings]) -> str:
    """Who to phone instead: the practice by name and number when it gave one."""
    practice = practices[0] if practices else None
    if practice is None:
        return "If you need help, phone your GP practice."
    number = f" on {practice.phone}" if practice.phone else ""
    return f"If you need help, phone {practice.display_name}{number}."


def refusal(
    reason: str, practices: list[OrganisationSettings], *, status: int | None = None
) -> str:
    """A reason written for staff, said to a patient, with what to do next."""
    if status in ABOUT_WHAT_WAS_SENT:
        return reason
    if reason == CLOSED:
        said = "Your practice has closed this conversation, so it cannot take new messages."
    elif FEATURE_NAMES[FeatureKey.ATTACHMENTS] in reason:
        said = "Your practice does not take images or voice notes here; you can still write."
    elif any(FEATURE_NAMES[key] in reason for key in FeatureKey):
        said = "Your practice is not taking messages here at the moment."
    elif status == 503:
        said = (
            "Your message may not have been sent: check this conversation before sending it again."
        )
    else:
        said = "You cannot send a message in this conversation."
    return f"{said} {next_step(practices)}"


def of_error(error: AppError, practices: list[OrganisationSettings]) -> str:
    return refusal(error.detail, practices, status=error.status)
