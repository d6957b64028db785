"""`EmbeddedFhirGateway`: FHIR resources as versioned JSON rows in Parley's own database.

It behaves like a separate server: every call runs in a transaction of its own
and is durable when it returns, independent of the caller's SQL transaction.
Callers must therefore make their FHIR writes before their own SQL writes (the
two-write rule), or on SQLite the two would wait on each other's lock.
"""

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any
from uuid import uuid4

from fhir.resources.R4B.binary import Binary
from sqlalchemy import and_, delete, exists, select, text, tuple_
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import utc_now
from app.fhir.binary import binary_content, build_binary
from app.fhir.embedded_index import (
    EmbeddedQuery,
    local_references,
    parse_search,
    search_tokens,
)
from app.fhir.errors import (
    FhirConflictError,
    FhirInvalidError,
    FhirNotFoundError,
    FhirUnavailableError,
)
from app.fhir.models import (
    FhirConditionalCreate,
    FhirResource,
    FhirResourceVersion,
    FhirSearchToken,
)
from app.fhir.protocol import BinaryContent, Created, R, SearchParams, Token


class EmbeddedFhirGateway:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[AsyncSession]:
        try:
            async with self._sessionmaker() as session, session.begin():
                yield session
        except IntegrityError:
            raise
        except (DBAPIError, OSError) as error:
            raise FhirUnavailableError("The embedded FHIR store cannot be reached.") from error

    async def create(self, resource: R) -> R:
        async with self._transaction() as session:
            return await _insert(session, resource)

    async def create_if_none_exist(self, resource: R, *, identifier: Token) -> Created[R]:
        model = type(resource)
        existing = await self._find_by_identifier(model, identifier)
        if existing is not None:
            return Created(existing, created=False)
        try:
            async with self._transaction() as session:
                created = await _insert(session, resource)
                session.add(
                    FhirConditionalCreate(
                        resource_type=resource.get_resource_type(),
                        criteria=f"identifier={identifier}",
                        resource_id=created.id,
                    )
                )
            return Created(created, created=True)
        except IntegrityError:
            # Another caller created it between our lookup and our insert.
            winner = await self._find_by_identifier(model, identifier)
            if winner is None:
                raise
            return Created(winner, created=False)

    async def _find_by_identifier(self, model: type[R], identifier: Token) -> R | None:
        matches = [match async for match in self.search(model, [("identifier", str(identifier))])]
        if len(matches) > 1:
            raise FhirConflictError(f"Several resources have the identifier {identifier}.")
        return matches[0] if matches else None

    async def read(self, model: type[R], resource_id: str) -> R:
        async with self._transaction() as session:
            statement = _current_versions(model.get_resource_type()).where(
                FhirResource.resource_id == resource_id
            )
            content = (await session.execute(statement)).scalar_one_or_none()
        if content is None:
            raise FhirNotFoundError(f"{model.get_resource_type()}/{resource_id} does not exist.")
        return model.model_validate_json(content)

    async def update(self, resource: R, *, if_match: str) -> R:
        resource_type = resource.get_resource_type()
        async with self._transaction() as session:
            current = await session.get(
                FhirResource, (resource_type, resource.id), with_for_update=True
            )
            if current is None:
                raise FhirNotFoundError(f"{resource_type}/{resource.id} does not exist.")
            if str(current.version_id) != _plain_version(if_match):
                raise FhirConflictError(
                    f"{resource_type}/{resource.id} is at version {current.version_id}, "
                    f"not {_plain_version(if_match)}."
                )
            stored = await _current_document(session, current)
            if _without_meta(stored) == _without_meta(resource.model_dump(mode="json")):
                # Like HAPI: an update that changes nothing is no new version.
                return type(resource).model_validate(stored)
            await _forget_search_values(session, resource_type, current.resource_id)
            return await _store_version(session, resource, current)

    async def search(
        self,
        model: type[R],
        params: SearchParams,
        *,
        on_invalid: Callable[[str | None], None] | None = None,
    ) -> AsyncIterator[R]:
        del on_invalid  # every resource here was validated when it was written
        query = parse_search(params)
        after: tuple[Any, str] | None = None
        while True:
            async with self._transaction() as session:
                page = (await session.execute(_search_page(model, query, after))).all()
            for content, _, _ in page:
                yield model.model_validate_json(content)
            if len(page) < query.page_size:
                return
            after = (page[-1][1], page[-1][2])

    async def history(self, model: type[R], resource_id: str) -> list[R]:
        async with self._transaction() as session:
            contents = await session.scalars(
                select(FhirResourceVersion.content)
                .where(
                    FhirResourceVersion.resource_type == model.get_resource_type(),
                    FhirResourceVersion.resource_id == resource_id,
                )
                .order_by(FhirResourceVersion.version_id.desc())
            )
            versions = [model.model_validate_json(content) for content in contents]
        if not versions:
            raise FhirNotFoundError(f"{model.get_resource_type()}/{resource_id} does not exist.")
        return versions

    async def put(self, resource: R) -> None:
        resource_type, resource_id = resource.get_resource_type(), str(resource.id)
        try:
            async with self._transaction() as session:
                current = await session.get(
                    FhirResource, (resource_type, resource_id), with_for_update=True
                )
                if current is None:
                    current = FhirResource(
                        resource_type=resource_type,
                        resource_id=resource_id,
                        version_id=0,
                        last_updated=utc_now(),
                    )
                    session.add(current)
                elif _without_meta(await _current_document(session, current)) == _without_meta(
                    resource.model_dump(mode="json")
                ):
                    return
                else:  # a replacement: the old version's search values go with it
                    await _forget_search_values(session, resource_type, resource_id)
                await _store_version(session, resource, current)
        except IntegrityError:
            return  # someone stored the same id at the same moment: it exists, as wanted

    async def put_where(self, resource: R, params: SearchParams) -> None:
        """Nothing Parley keeps here is known by anything but its id."""
        raise FhirInvalidError("The embedded FHIR store takes no conditional updates.")

    async def put_binary(self, binary_id: str, content: BinaryContent) -> None:
        await self.put(build_binary(content, binary_id))

    async def read_binary(self, binary_id: str) -> BinaryContent:
        return binary_content(await self.read(Binary, binary_id))

    async def check(self) -> None:
        async with self._transaction() as session:
            await session.execute(text("SELECT 1"))

    async def aclose(self) -> None:
        """The engine belongs to the app, which disposes of it."""


async def _forget_search_values(
    session: AsyncSession, resource_type: str, resource_id: str
) -> None:
    await session.execute(
        delete(FhirSearchToken).where(
            FhirSearchToken.resource_type == resource_type,
            FhirSearchToken.resource_id == resource_id,
        )
    )


async def _insert(session: AsyncSession, resource: R) -> R:
    current = FhirResource(
        resource_type=resource.get_resource_type(),
        resource_id=str(uuid4()),
        version_id=0,
        last_updated=utc_now(),
    )
    session.add(current)
    return await _store_version(session, resource, current)


async def _store_version(session: AsyncSession, resource: R, current: FhirResource) -> R:
    """Stamp id, versionId and lastUpdated; write the version, its index and the pointer."""
    current.version_id += 1
    current.last_updated = utc_now()
    document = resource.model_dump(mode="json")
    document["id"] = current.resource_id
    document["meta"] = document.get("meta", {}) | {
        "versionId": str(current.version_id),
        "lastUpdated": current.last_updated.isoformat(timespec="microseconds"),
    }
    await session.flush()
    await _check_references(session, document)
    session.add(
        FhirResourceVersion(
            resource_type=current.resource_type,
            resource_id=current.resource_id,
            version_id=current.version_id,
            last_updated=current.last_updated,
            content=json.dumps(document, separators=(",", ":")),
        )
    )
    session.add_all(
        FhirSearchToken(
            resource_type=current.resource_type,
            resource_id=current.resource_id,
            param=param,
            value=value,
        )
        for param, value in search_tokens(document)
    )
    return type(resource).model_validate(document)


async def _check_references(session: AsyncSession, document: dict[str, Any]) -> None:
    """Refuse a reference to a resource that does not exist, as HAPI does by default."""
    wanted = set(local_references(document))
    if not wanted:
        return
    found = await session.execute(
        select(FhirResource.resource_type, FhirResource.resource_id).where(
            tuple_(FhirResource.resource_type, FhirResource.resource_id).in_(wanted)
        )
    )
    missing = wanted - {tuple(row) for row in found}
    if missing:
        names = ", ".join(sorted(f"{kind}/{rid}" for kind, rid in missing))
        raise FhirInvalidError(f"The resource refers to resources that do not exist: {names}.")


async def _current_document(session: AsyncSession, current: FhirResource) -> dict[str, Any]:
    content = await session.scalar(
        select(FhirResourceVersion.content).where(
            FhirResourceVersion.resource_type == current.resource_type,
            FhirResourceVersion.resource_id == current.resource_id,
            FhirResourceVersion.version_id == current.version_id,
        )
    )
    assert content is not None, "every current resource has its version row"
    document: dict[str, Any] = json.loads(content)
    return document


def _without_meta(document: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if key not in ("meta", "id")}


def _plain_version(if_match: str) -> str:
    """`W/"3"` and `3` both mean version 3."""
    return if_match.removeprefix("W/").strip('"')


def _current_versions(resource_type: str) -> Any:
    return (
        select(FhirResourceVersion.content, FhirResource.last_updated, FhirResource.resource_id)
        .join(
            FhirResource,
            and_(
                FhirResourceVersion.resource_type == FhirResource.resource_type,
                FhirResourceVersion.resource_id == FhirResource.resource_id,
                FhirResourceVersion.version_id == FhirResource.version_id,
            ),
        )
        .where(FhirResource.resource_type == resource_type)
    )


def _search_page(model: type[R], query: EmbeddedQuery, after: tuple[Any, str] | None) -> Any:
    resource_type = model.get_resource_type()
    statement = _current_versions(resource_type)
    if query.resource_id:
        statement = statement.where(FhirResource.resource_id.in_(query.resource_id))
    for param, values in query.tokens:
        statement = statement.where(
            exists().where(
                FhirSearchToken.resource_type == FhirResource.resource_type,
                FhirSearchToken.resource_id == FhirResource.resource_id,
                FhirSearchToken.param == param,
                FhirSearchToken.value.in_(values),
            )
        )
    for prefix, moment in query.updated_bounds:
        statement = statement.where(_compare(prefix, moment))
    order = tuple_(FhirResource.last_updated, FhirResource.resource_id)
    if after is not None:
        statement = statement.where(order < after if query.descending else order > after)
    columns = (FhirResource.last_updated, FhirResource.resource_id)
    if query.descending:
        statement = statement.order_by(*(column.desc() for column in columns))
    else:
        statement = statement.order_by(*columns)
    return statement.limit(query.page_size)


def _compare(prefix: str, moment: Any) -> Any:
    column = FhirResource.last_updated
    return {
        "ge": column >= moment,
        "gt": column > moment,
        "le": column <= moment,
        "lt": column < moment,
        "eq": column == moment,
    }[prefix]
