"""A conversation's work as a FHIR `Task`: whose it is (`owner`, a Practitioner or a
Group) and whether the team's work on it is done (`status` completed). `focus` is the
thread header and `for` the patient, so another system finds a patient's open work with
`Task?patient=...&status=requested`. Parley chooses the id, as for its directory, and
writes the whole Task with a PUT: a repeat lands on the same one."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fhir.resources.R4B.task import Task

from app.fhir.directory import directory_identifier
from app.fhir.narrative import narrative

REQUESTED = "requested"
COMPLETED = "completed"


@dataclass(frozen=True)
class ConversationWork:
    fhir_id: str
    header_fhir_id: str
    patient_id: str
    # `Practitioner/<id>` or `Group/<id>` (see `_owner`), with its name; None when nobody
    # is assigned.
    owner: str | None
    owner_name: str | None
    status: str  # REQUESTED or COMPLETED
    authored: datetime
    changed: datetime
    note: str | None = None


def build_task(work: ConversationWork) -> Task:
    token = directory_identifier(work.fhir_id)
    document: dict[str, Any] = {
        "resourceType": "Task",
        "id": work.fhir_id,
        "identifier": [{"system": token.system, "value": token.value}],
        "status": work.status,
        "intent": "order",
        "code": {"text": "Answer the patient's conversation"},
        "focus": {"reference": f"Communication/{work.header_fhir_id}"},
        "for": {"reference": f"Patient/{work.patient_id}"},
        "authoredOn": work.authored.isoformat(),
        "lastModified": work.changed.isoformat(),
        "text": narrative(
            "Work on a Parley conversation: "
            + ("done." if work.status == COMPLETED else "to do.")
            + (f" Assigned to {work.owner_name}." if work.owner_name else " Not assigned."),
            f"Note: {work.note}" if work.note else None,
        ),
    }
    if work.owner is not None or work.owner_name is not None:
        document["owner"] = _owner(work.owner, work.owner_name)
    if work.note:
        document["note"] = [{"text": work.note}]
    return Task.model_validate(document)


def _owner(owner: str | None, name: str | None) -> dict[str, Any]:
    """A Practitioner is a literal reference. R4 does not let a Task's owner be a Group
    (HAPI refuses it), so a team is named by its directory identifier, which the Group
    also carries, and its name: a logical reference another system can resolve with
    `Group?identifier=`. One not yet in FHIR is named by its name alone."""
    reference: dict[str, Any] = {"display": name} if name else {}
    if owner is None:
        return reference
    kind, fhir_id = owner.split("/", 1)
    if kind == "Group":
        token = directory_identifier(fhir_id)
        return reference | {
            "type": "Group",
            "identifier": {"system": token.system, "value": token.value},
        }
    return reference | {"reference": owner}
