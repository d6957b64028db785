"""Refusals as a patient reads them: what happened in plain words, and what to do next,
because a patient who cannot send a message may still need an answer today."""

from app.errors import AppError
from app.messaging.gate import CLOSED
from app.organisations.schemas import OrganisationSettings


def next_step(practices: list[OrganisationSettings]) -> str:
    """Who to phone instead: the practice by name and number when it gave one."""
    practice = practices[0] if practices else None
    if practice is None:
        return "If you need help, phone your GP practice."
    number = f" on {practice.phone}" if practice.phone else ""
    return f"If you need help, phone {practice.display_name}{number}."


def refusal(reason: str, practices: list[OrganisationSettings], *, slug: str = "") -> str:
    """A reason written for staff, said to a patient."""
    if reason == CLOSED:
        said = "Your practice has closed this conversation, so it cannot take new messages."
    elif slug == "feature-disabled" or reason.endswith("switched off for this organisation."):
        said = "Your practice is not taking messages here at the moment."
    elif slug in ("forbidden", "not-found"):
        said = "You cannot send a message in this conversation."
    else:
        return reason  # already about what the patient did (an empty message, a large file)
    return f"{said} {next_step(practices)}"


def of_error(error: AppError, practices: list[OrganisationSettings]) -> str:
    return refusal(error.detail, practices, slug=error.slug)
