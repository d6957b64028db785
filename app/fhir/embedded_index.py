"""Which values of a resource the embedded store can search on, and how queries map to them.

Only the standard parameters Parley uses are supported; anything else is refused
rather than silently ignored, so a search never answers more than was asked.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.fhir.errors import FhirInvalidError
from app.fhir.protocol import SearchParams

# Search parameter -> path into the resource JSON, and how to read a value there.
TOKEN_PARAMS = {
    "identifier": ("identifier", "token"),
    "_tag": ("meta.tag", "coding"),
    "part-of": ("partOf", "reference"),
    "subject": ("subject", "reference"),
    # Communication: who wrote it, and whom it is for.
    "sender": ("sender", "reference"),
    "recipient": ("recipient", "reference"),
    # PractitionerRole and Group: whose role it is, and who is in the group.
    "practitioner": ("practitioner", "reference"),
    "member": ("member.entity", "reference"),
    # Provenance: what a revision produced, and what it revised.
    "target": ("target", "reference"),
    "entity": ("entity.what", "reference"),
}
DATE_PREFIXES = ("ge", "gt", "le", "lt", "eq")
SORTS = {"_lastUpdated": False, "-_lastUpdated": True}
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000


def search_tokens(resource: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(param, value) pairs to index for one resource."""
    for param, (path, kind) in TOKEN_PARAMS.items():
        for element in _elements(resource, path.split(".")):
            value = _token_value(element, kind)
            if value:
                yield param, value


def _elements(node: Any, path: list[str]) -> Iterator[Any]:
    if not path:
        yield from node if isinstance(node, list) else [node]
        return
    if isinstance(node, list):
        for item in node:
            yield from _elements(item, path)
    elif isinstance(node, dict) and path[0] in node:
        yield from _elements(node[path[0]], path[1:])


def _token_value(element: Any, kind: str) -> str | None:
    if not isinstance(element, dict):
        return None
    if kind == "reference":
        reference = element.get("reference")
        return reference if isinstance(reference, str) else None
    key = "value" if kind == "token" else "code"
    system, value = element.get("system", ""), element.get(key)
    return f"{system}|{value}" if value else None


# A literal reference to a resource on this server, as in `Patient/123`.
LOCAL_REFERENCE = re.compile(r"^([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})$")


def local_references(node: Any) -> Iterator[tuple[str, str]]:
    """Every (type, id) the resource refers to on this server, anywhere in it."""
    if isinstance(node, dict):
        reference = node.get("reference")
        if isinstance(reference, str) and (match := LOCAL_REFERENCE.match(reference)):
            yield match.group(1), match.group(2)
        for value in node.values():
            yield from local_references(value)
    elif isinstance(node, list):
        for item in node:
            yield from local_references(item)


@dataclass
class EmbeddedQuery:
    resource_id: list[str] = field(default_factory=list)
    tokens: list[tuple[str, list[str]]] = field(default_factory=list)
    updated_bounds: list[tuple[str, datetime]] = field(default_factory=list)
    descending: bool = False
    page_size: int = DEFAULT_PAGE_SIZE


def parse_search(params: SearchParams) -> EmbeddedQuery:
    query = EmbeddedQuery()
    for name, value in params:
        if name in TOKEN_PARAMS:
            # A comma means "any of these values".
            query.tokens.append((name, value.split(",")))
        elif name == "_id":
            query.resource_id.extend(value.split(","))
        elif name == "_lastUpdated":
            query.updated_bounds.append(_date_bound(value))
        elif name == "_sort" and value in SORTS:
            query.descending = SORTS[value]
        elif name == "_count" and value.isdigit():
            query.page_size = max(1, min(int(value), MAX_PAGE_SIZE))
        else:
            raise FhirInvalidError(f"The embedded FHIR store does not support {name}={value}.")
    return query


def _date_bound(value: str) -> tuple[str, datetime]:
    prefix, moment = (value[:2], value[2:]) if value[:2] in DATE_PREFIXES else ("eq", value)
    try:
        parsed = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    except ValueError:
        raise FhirInvalidError(f"_lastUpdated needs an ISO 8601 time, not {value!r}.") from None
    if parsed.tzinfo is None:
        raise FhirInvalidError("_lastUpdated needs a time zone.")
    return prefix, parsed
