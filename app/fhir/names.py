"""The name of someone another system wrote about: what its reference says, or else what
its resource says, so that a message from outside Parley is never shown as from nobody."""

import re
from typing import Any, cast

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.resource import Resource

from app.fhir.errors import FhirInvalidError, FhirNotFoundError
from app.fhir.protocol import FhirGateway
from app.fhir.resources import ForeignParty

# Resources whose `name` is HumanName(s); the others with a `name` hold a plain string.
_PEOPLE = frozenset({"Practitioner", "RelatedPerson"})
_FOLLOWED = re.compile(
    r"(?P<type>Practitioner|RelatedPerson|Organization|CareTeam|HealthcareService)"
    r"/(?P<id>[A-Za-z0-9\-.]{1,64})(/_history/[A-Za-z0-9\-.]{1,64})?"
)


async def name_of(fhir: FhirGateway, party: ForeignParty) -> str:
    """The reference's display; else the named resource's name, read from this server (a
    reference to another server is never followed); else what kind of sender it is."""
    if party.display and party.display.strip():
        return party.display.strip()
    found = await _resource_name(fhir, party)
    if found:
        return found
    return f"{party.resource_type or 'Someone'} (another system)"


async def _resource_name(fhir: FhirGateway, party: ForeignParty) -> str | None:
    """Only a plain local reference to a resource that names someone who writes messages
    is read: never another server, never a Patient (its name is the patient's data)."""
    found = _FOLLOWED.fullmatch(party.reference or "")
    if found is None:
        return None
    resource_type, resource_id = found.group("type"), found.group("id")
    model = cast(type[Resource], get_fhir_model_class(resource_type))
    try:
        resource = await fhir.read(model, resource_id)
    except (FhirNotFoundError, FhirInvalidError):
        return None  # FHIR unwell is not "no name": that propagates, to be tried again
    return _name_in(resource.model_dump(mode="json", exclude_none=True), resource_type)


def _name_in(document: dict[str, Any], resource_type: str) -> str | None:
    name = document.get("name")
    if resource_type in _PEOPLE and isinstance(name, list) and name:
        human = name[0]
        if human.get("text"):
            return str(human["text"])
        words = [*human.get("prefix", []), *human.get("given", []), human.get("family", "")]
        return " ".join(word for word in words if word) or None
    return str(name) if isinstance(name, str) and name else None
