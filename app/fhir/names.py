"""The name of someone another system wrote about: what its reference says, or else what
its resource says, so that a message from outside Parley is never shown as from nobody."""

from typing import Any, cast

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.resource import Resource

from app.fhir.errors import FhirError
from app.fhir.protocol import FhirGateway
from app.fhir.resources import ForeignParty

# Resources whose `name` is HumanName(s); the others with a `name` hold a plain string.
_PEOPLE = frozenset({"Patient", "Practitioner", "RelatedPerson", "Person"})


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
    reference = party.reference or ""
    if "://" in reference or party.resource_type is None or party.resource_id is None:
        return None
    try:
        model = cast(type[Resource], get_fhir_model_class(party.resource_type))
        resource = await fhir.read(model, party.resource_id)
    except (KeyError, ValueError, FhirError):
        return None
    return _name_in(resource.model_dump(mode="json", exclude_none=True), party.resource_type)


def _name_in(document: dict[str, Any], resource_type: str) -> str | None:
    name = document.get("name")
    if resource_type in _PEOPLE and isinstance(name, list) and name:
        human = name[0]
        if human.get("text"):
            return str(human["text"])
        words = [*human.get("prefix", []), *human.get("given", []), human.get("family", "")]
        return " ".join(word for word in words if word) or None
    return str(name) if isinstance(name, str) and name else None
