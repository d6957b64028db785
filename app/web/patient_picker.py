"""Choosing a patient on a page: by search, never by a default, never by typing an id.
Every result and every choice names the patient with their birth date and NHS number, so
two Alex Smiths are told apart before anything is done for either."""

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.access.policy import Actor
from app.errors import AppError, InvalidInputError
from app.patients import nhs_number
from app.patients import service as patients
from app.patients.schemas import PatientRead

RESULTS_SHOWN = 20


@dataclass(frozen=True)
class Found:
    """What a search on a page found: the choices, or why it could not run."""

    choices: list[tuple[str, str]]
    error: str | None = None
    more: bool = False


def picker_label(patient: PatientRead) -> str:
    """A name alone is not enough to choose by: two Alex Smiths differ in birth date and
    NHS number, so every choice shows both."""
    born = patient.birth_date
    when = f"born {born.day} {born:%b %Y}" if born else "birth date not recorded"
    sex = f" \u00b7 {patient.sex}" if patient.sex else ""
    number = (
        f"NHS {nhs_number.shown(patient.nhs_number)}" if patient.nhs_number else "no NHS number"
    )
    return f"{patient.family_name}, {patient.given_name} \u2014 {when}{sex} \u00b7 {number}"


async def find(
    session: AsyncSession, actor: Actor, query: str, *, leave_out: set[str] | None = None
) -> Found:
    """Active patients the actor may see that match `query`; no query, no list (a list of
    everyone invites choosing the first)."""
    if not query.strip():
        return Found([])
    try:
        page = await patients.list_patients(
            session, actor, query=query, cursor=None, limit=RESULTS_SHOWN
        )
    except InvalidInputError as refused:
        return Found([], refused.detail)
    shown = [
        (patient.id, picker_label(patient))
        for patient in page.items
        if patient.is_active and patient.id not in (leave_out or set())
    ]
    return Found(_told_apart(shown), more=page.next_cursor is not None)


def _told_apart(choices: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Two records alike in name, birth date, sex and (no) NHS number would read the same:
    each then also shows the start of its record's id, and that they look alike."""
    labels = [label for _, label in choices]
    return [
        (patient_id, f"{label} \u00b7 record {patient_id[:8]} (two records look alike)")
        if labels.count(label) > 1
        else (patient_id, label)
        for patient_id, label in choices
    ]


async def chosen(session: AsyncSession, actor: Actor, patient_id: str) -> PatientRead | None:
    """The patient a page was asked to act for, if the actor may see them (an audited
    look) and they are active; otherwise none, and the page asks for a choice again."""
    if not patient_id:
        return None
    try:
        patient = await patients.read_patient(session, actor, patient_id)
    except AppError:
        return None
    return patient if patient.is_active else None
