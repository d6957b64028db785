"""What an organisation tells its patients, and the defaults when it has said nothing.

The emergency advice is never empty: a patient writing about chest pain must be told,
before they write, that messages are not read at once. The UK wording is the default;
an organisation elsewhere sets its own."""

from app.directory.organisations import Organisation
from app.organisations.schemas import OrganisationSettings

DEFAULT_EMERGENCY_TEXT = "Not for emergencies: call 999, or 111 for urgent advice."


def settings_of(organisation: Organisation) -> OrganisationSettings:
    return OrganisationSettings(
        display_name=organisation.display_name or organisation.name,
        phone=organisation.phone,
        timezone=organisation.timezone,
        reply_time_text=organisation.reply_time_text,
        out_of_hours_text=organisation.out_of_hours_text,
        emergency_text=organisation.emergency_text or DEFAULT_EMERGENCY_TEXT,
        escalate_unanswered_after_hours=organisation.escalate_unanswered_after_hours,
    )
