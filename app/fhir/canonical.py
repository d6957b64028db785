"""Parley's names on the wire: its identifier systems, tags, code systems, extensions and
profiles live under one canonical base that the deployer controls
(`PARLEY_FHIR_CANONICAL_URL`), where `fhir/conformance/` defines them.

In the code they keep short fixed names (`urn:parley:…`), so no builder or parser
depends on configuration; the gateways translate at the boundary, on every document
they send and receive and every search they make. Reading accepts both forms, so
resources written before the base existed are still Parley's, and a search for one of
Parley's tokens asks for either form.
"""

from collections.abc import Iterable
from typing import Any

from app.config import DEVELOPMENT_FHIR_CANONICAL_URL
from app.fhir.protocol import SearchParams, Token

# The internal name of each, and where it lives under the base.
_PATHS = {
    "urn:parley:conversation": "sid/conversation",
    "urn:parley:message": "sid/message",
    "urn:parley:patient": "sid/patient",
    "urn:parley:user": "sid/user",
    "urn:parley:group": "sid/group",
    "urn:parley:organisation": "sid/organisation",
    "urn:parley:directory": "sid/directory",
    "urn:parley:tag": "CodeSystem/parley-tag",
    "urn:parley:message-category": "CodeSystem/parley-message-category",
    "urn:parley:extension:amends": "StructureDefinition/parley-amends",
    "urn:parley:extension:duration-ms": "StructureDefinition/parley-duration-ms",
    "urn:parley:extension:organisation": "StructureDefinition/parley-organisation",
    "urn:parley:extension:joined": "StructureDefinition/parley-joined",
    "urn:parley:extension:status-changed": "StructureDefinition/parley-status-changed",
    "urn:parley:profile:thread-header": "StructureDefinition/parley-thread-header",
    "urn:parley:profile:message": "StructureDefinition/parley-message",
}
# The base the shipped conformance resources are written under, for rebasing them.
SHIPPED_BASE = DEVELOPMENT_FHIR_CANONICAL_URL


class CanonicalNames:
    """The translation between Parley's internal names and those under one base."""

    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")
        self._outward = {name: f"{self.base}/{path}" for name, path in _PATHS.items()}
        self._inward = {external: name for name, external in self._outward.items()}

    def to_server(self, document: Any) -> Any:
        """The document with Parley's names as the server should hold them (in place)."""
        _rename(document, self._outward)
        return document

    def from_server(self, document: Any) -> Any:
        """The document with Parley's names as the code knows them (in place)."""
        _rename(document, self._inward)
        return document

    def defined(self) -> set[str]:
        """The names `fhir/conformance/` must define: all but the identifier systems."""
        return {name for name in self._outward.values() if "/sid/" not in name}

    def either(self, token: Token) -> str:
        """A search value that finds the token in either form (for a conditional create,
        so a retry across the change of names still finds the first)."""
        return ",".join(self._either([str(token)]))

    def search(self, params: SearchParams) -> list[tuple[str, str]]:
        """Each of Parley's `system|code` tokens asked for in either form (a comma is OR)."""
        return [(name, ",".join(self._either(value.split(",")))) for name, value in params]

    def _either(self, values: Iterable[str]) -> Iterable[str]:
        for value in values:
            system, bar, code = value.partition("|")
            if bar and system in self._outward:
                yield f"{self._outward[system]}|{code}"
            yield value


def _rename(node: Any, names: dict[str, str]) -> None:
    """Rename every `system` and `url` that is one of `names`, and every profile."""
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, str):
                if key in ("system", "url") and value in names:
                    node[key] = names[value]
            elif key == "profile" and isinstance(value, list):
                node[key] = [
                    names.get(item, item) if isinstance(item, str) else item for item in value
                ]
            else:
                _rename(value, names)
    elif isinstance(node, list):
        for item in node:
            _rename(item, names)
