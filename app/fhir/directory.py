"""The people and teams behind Parley's messages, as FHIR resources any client can follow.

Staff are `Practitioner`s, each organisation membership a `PractitionerRole`,
organisations `Organization`s and team groups `Group`s (a patient's portal login is
named by its `Patient`). Parley chooses each one's id, a UUID, before the row it
describes exists (FHIR is written first), and writes it with a PUT to that id: a repeat
lands on the same resource, never a second. The same UUID is its identifier under
Parley's directory system. Built from plain values: the rows they describe belong to
the layers above.
"""

from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4, uuid5

from fhir.resources.R4B.group import Group
from fhir.resources.R4B.organization import Organization
from fhir.resources.R4B.practitioner import Practitioner
from fhir.resources.R4B.practitionerrole import PractitionerRole

from app.fhir.narrative import narrative
from app.fhir.protocol import Token

DIRECTORY_SYSTEM = "urn:parley:directory"
ROLE_NAMESPACE = UUID("0b6f4f0e-7d1a-4b8e-9a35-5f3c2d9e8a17")


@dataclass(frozen=True)
class StaffMember:
    fhir_id: str
    full_name: str
    active: bool


@dataclass(frozen=True)
class OrganisationEntry:
    fhir_id: str
    name: str
    kind: str
    location: str | None
    alias: str | None = None  # the name patients know it by, when not its own
    phone: str | None = None
    active: bool = True


@dataclass(frozen=True)
class TeamGroup:
    fhir_id: str
    name: str
    description: str | None
    organisation_fhir_id: str | None
    # The members' Practitioner ids.
    member_fhir_ids: tuple[str, ...]
    active: bool = True


def directory_identifier(fhir_id: str) -> Token:
    return Token(DIRECTORY_SYSTEM, fhir_id)


def new_fhir_id() -> str:
    """The id of a resource about to be published for the first time."""
    return str(uuid4())


def build_practitioner(member: StaffMember) -> Practitioner:
    document: dict[str, Any] = {
        "resourceType": "Practitioner",
        "identifier": [_identifier(directory_identifier(member.fhir_id))],
        "active": member.active,
        "name": [{"text": member.full_name}],
        "text": narrative(
            f"{member.full_name}, who writes in Parley"
            + ("." if member.active else " (no longer active).")
        ),
    }
    return Practitioner.model_validate(document | {"id": member.fhir_id})


def build_organization(entry: OrganisationEntry) -> Organization:
    document: dict[str, Any] = {
        "resourceType": "Organization",
        "identifier": [_identifier(directory_identifier(entry.fhir_id))],
        "active": entry.active,
        "name": entry.name,
        "type": [{"text": entry.kind}],
        "text": narrative(
            f"{entry.name} ({entry.kind})" + ("" if entry.active else ", no longer in Parley"),
            entry.location,
        ),
    }
    if entry.location:
        document["address"] = [{"text": entry.location}]
    if entry.alias and entry.alias != entry.name:
        document["alias"] = [entry.alias]
    if entry.phone:
        document["telecom"] = [{"system": "phone", "value": entry.phone}]
    return Organization.model_validate(document | {"id": entry.fhir_id})


def build_practitioner_role(
    *, practitioner_fhir_id: str, organization_fhir_id: str, active: bool
) -> PractitionerRole:
    """One organisation membership; an ended one stays, inactive, for the record. Its id
    follows from the two it joins, so each pair has one role however often published."""
    fhir_id = str(uuid5(ROLE_NAMESPACE, f"{practitioner_fhir_id}/{organization_fhir_id}"))
    document: dict[str, Any] = {
        "resourceType": "PractitionerRole",
        "id": fhir_id,
        "identifier": [_identifier(directory_identifier(fhir_id))],
        "active": active,
        "practitioner": {"reference": f"Practitioner/{practitioner_fhir_id}"},
        "organization": {"reference": f"Organization/{organization_fhir_id}"},
        "text": narrative(
            "Staff of the organisation" + ("." if active else " (membership ended).")
        ),
    }
    return PractitionerRole.model_validate(document)


def build_group(group: TeamGroup) -> Group:
    document: dict[str, Any] = {
        "resourceType": "Group",
        "identifier": [_identifier(directory_identifier(group.fhir_id))],
        "active": group.active,
        "type": "practitioner",
        "actual": True,
        "name": group.name,
        "quantity": len(group.member_fhir_ids),
        "text": narrative(
            f"The team {group.name}, with {len(group.member_fhir_ids)} member(s).",
            group.description,
        ),
    }
    if group.organisation_fhir_id is not None:
        document["managingEntity"] = {"reference": f"Organization/{group.organisation_fhir_id}"}
    if group.member_fhir_ids:
        document["member"] = [
            {"entity": {"reference": f"Practitioner/{member}"}} for member in group.member_fhir_ids
        ]
    return Group.model_validate(document | {"id": group.fhir_id})


def _identifier(token: Token) -> dict[str, str]:
    return {"system": token.system, "value": token.value}
