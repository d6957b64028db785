"""What the rest of Parley may ask of a FHIR server, and nothing more."""

from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from fhir.resources.R4B.resource import Resource

R = TypeVar("R", bound=Resource)

# Search parameters as (name, value) pairs, so a name may repeat
# (`_lastUpdated=ge…&_lastUpdated=lt…`).
SearchParams = Sequence[tuple[str, str]]


@dataclass(frozen=True)
class Token:
    """A FHIR token such as an identifier: `system|value`."""

    system: str
    value: str

    def __str__(self) -> str:
        return f"{self.system}|{self.value}"


@dataclass(frozen=True)
class Created(Generic[R]):
    resource: R
    # False when a conditional create found the resource already there.
    created: bool


@dataclass(frozen=True)
class BinaryContent:
    content_type: str
    data: bytes
    # The resource whose access rules the bytes follow (`Communication/<thread header>`),
    # so a FHIR client that meets the Binary alone knows whose it is.
    security_context: str | None = None


class FhirGateway(Protocol):
    async def create(self, resource: R) -> R:
        """Create with a server-assigned id; the answer carries id, versionId, lastUpdated."""
        ...

    async def create_if_none_exist(self, resource: R, *, identifier: Token) -> Created[R]:
        """Create unless a resource with this identifier exists; then answer that one.

        Safe to retry: however often it is called, at most one resource exists.
        """
        ...

    async def read(self, model: type[R], resource_id: str) -> R: ...

    async def update(self, resource: R, *, if_match: str) -> R:
        """Replace the resource if its current versionId is `if_match`, else conflict."""
        ...

    def search(
        self,
        model: type[R],
        params: SearchParams,
        *,
        on_invalid: Callable[[str | None], None] | None = None,
    ) -> AsyncIterator[R]:
        """Every match, following the server's paging until the last page. A match that is
        not a valid `model` fails the search, unless `on_invalid` is given: then it is told
        the match's id and the search goes on (a shared server holds others' writes)."""
        ...

    async def history(self, model: type[R], resource_id: str) -> list[R]:
        """Every version of one resource, newest first."""
        ...

    async def put(self, resource: R) -> None:
        """Create or replace the resource at its own id (which the caller chose so that a
        repeat lands on the same one): safe to repeat."""
        ...

    async def put_where(self, resource: R, params: SearchParams) -> None:
        """Create the resource, or replace the one that matches `params` (a conditional
        update): for resources known by something other than an id, such as a
        definition by its canonical URL. Safe to repeat."""
        ...

    async def put_binary(self, binary_id: str, content: BinaryContent) -> None:
        """Store bytes as the Binary with this id, ours to choose: repeating it is harmless."""
        ...

    async def read_binary(self, binary_id: str) -> BinaryContent: ...

    async def check(self) -> None:
        """Raise FhirUnavailableError unless the store answers."""
        ...

    async def aclose(self) -> None: ...
