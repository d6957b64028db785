"""Rebuild the SQL projection of conversations and messages from FHIR alone.

FHIR is the record; the rows are a projection of it. `reproject` finds Parley's
Communications by their tags (and, for a reconcile, by `_lastUpdated`), and
writes whatever rows are missing, keyed by the Parley identifiers, so running
it twice changes nothing. Receipts and read markers exist only in SQL: rows
made here start unread.
"""

import dataclasses
import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TypeVar
from uuid import UUID

from fhir.resources.R4B.communication import Communication
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.audit import log as audit
from app.audit.log import AuditEntry
from app.auth import service as users
from app.conversations.models import Conversation
from app.fhir.errors import FhirError, FhirNotFoundError
from app.fhir.names import name_of
from app.fhir.protocol import FhirGateway, SearchParams, Token
from app.fhir.resources import (
    CONVERSATION_TAG,
    MESSAGE_TAG,
    ConversationHeader,
    ForeignParty,
    MessageRecord,
    conversation_identifier,
    parse_conversation_header,
    parse_message,
    thread_search,
)
from app.messaging import projector
from app.messaging import repository as rows
from app.messaging.models import ProjectionFailure
from app.patients import service as patients
from app.text import clean

Progress = Callable[[str], None]
ParsedT = TypeVar("ParsedT")
RETRIED_PER_RUN = 1000  # the least recently tried first: every one gets its turn
RETRIED_AT_ONCE = 3
LISTED_AT_MOST = 100_000
FOREIGN_SENDER = "Another system"
logger = logging.getLogger(__name__)


class Unprojectable(Exception):
    """A resource this projection cannot take as it is: the reason says why, in words safe
    for a log (no patient data)."""


@dataclass
class ReprojectReport:
    conversations_created: int = 0
    conversations_seen: int = 0
    messages_created: int = 0
    messages_seen: int = 0
    # "Communication/<id>: reason" for each resource left for a later run.
    failed: list[str] = field(default_factory=list)


async def reproject(
    sessionmaker: async_sessionmaker[AsyncSession],
    fhir: FhirGateway,
    *,
    conversation: UUID | None = None,
    since: datetime | None = None,
    progress: Progress | None = None,
) -> ReprojectReport:
    """Project what FHIR has and SQL lacks. A resource that cannot be projected is recorded
    and skipped, never allowed to stop the run, and tried again on every later run (also
    when it is older than `since`) until it projects."""
    report = ReprojectReport()
    tick = progress or (lambda _: None)
    search = _header_search(conversation, since)
    found = [resource async for resource in fhir.search(Communication, search)]
    retried = await _retried(sessionmaker, fhir, report) if conversation is None else []
    found += [resource for resource in retried if _is_header(resource)]
    headers = await _parsed(sessionmaker, found, parse_conversation_header, "conversation", report)
    for header in headers:
        work = functools.partial(_project_header, header=header, report=report)
        await _attempt(sessionmaker, report, header.fhir_id, "conversation", work)
        tick("conversation")
    messages = await _messages_to_project(
        sessionmaker,
        fhir,
        headers,
        conversation=conversation,
        since=since,
        skipped=lambda fhir_id: report.failed.append(f"Communication/{fhir_id}: not valid FHIR"),
    )
    messages += [resource for resource in retried if not _is_header(resource)]
    records = await _parsed(sessionmaker, messages, parse_message, "message", report)
    for record in sorted(records, key=lambda message: (message.sent, str(message.uuid))):
        projection = functools.partial(_project_message, fhir=fhir, record=record, report=report)
        await _attempt(sessionmaker, report, record.fhir_id, "message", projection)
        tick("message")
    return report


async def _attempt(
    sessionmaker: async_sessionmaker[AsyncSession],
    report: ReprojectReport,
    fhir_id: str | None,
    kind: str,
    work: Callable[[AsyncSession], Awaitable[object]],
) -> None:
    """One resource in one transaction; whatever goes wrong is that resource's alone."""
    try:
        async with sessionmaker() as session, session.begin():
            await work(session)
            if fhir_id is not None:
                await rows.forget_failure(session, fhir_id)
    except Exception as error:
        reason = str(error) if isinstance(error, Unprojectable) else type(error).__name__
        await _record_failure(sessionmaker, report, fhir_id, kind, reason)


async def _record_failure(
    sessionmaker: async_sessionmaker[AsyncSession],
    report: ReprojectReport,
    fhir_id: str | None,
    kind: str,
    reason: str,
) -> None:
    report.failed.append(f"Communication/{fhir_id}: {reason}")
    logger.warning("could not project Communication/%s (%s): %s", fhir_id, kind, reason)
    if fhir_id is None:
        return
    try:
        async with sessionmaker() as session, session.begin():
            await rows.remember_failure(session, fhir_id, kind, reason[:200])
    except Exception as error:  # another run recorded it at the same moment, say
        logger.warning(
            "could not record the failure of Communication/%s: %s", fhir_id, type(error).__name__
        )


async def _parsed(
    sessionmaker: async_sessionmaker[AsyncSession],
    resources: list[Communication],
    parse: Callable[[Communication], ParsedT],
    kind: str,
    report: ReprojectReport,
) -> list[ParsedT]:
    """The resources that parse as Parley's; each that does not is a recorded failure."""
    parsed = []
    for resource in resources:
        try:
            parsed.append(parse(resource))
        except (ValueError, TypeError, AttributeError) as error:
            reason = f"not a Parley {kind} ({type(error).__name__})"
            await _record_failure(sessionmaker, report, resource.id, kind, reason)
    return parsed


async def failures(session: AsyncSession) -> list[ProjectionFailure]:
    """What earlier runs could not project, least recently tried first."""
    return await rows.failures(session, limit=LISTED_AT_MOST)


def _is_header(resource: Communication) -> bool:
    return not resource.partOf


async def _retried(
    sessionmaker: async_sessionmaker[AsyncSession], fhir: FhirGateway, report: ReprojectReport
) -> list[Communication]:
    """The resources earlier runs could not project, read again by id."""
    async with sessionmaker() as session:
        earlier = await rows.failures(session, limit=RETRIED_PER_RUN)
    resources = []
    now = datetime.now(UTC)
    for failure in (failure for failure in earlier if _due(failure, now)):
        try:
            resources.append(await fhir.read(Communication, failure.fhir_id))
        except FhirNotFoundError:  # gone from the record: nothing left to project
            async with sessionmaker() as session, session.begin():
                await rows.forget_failure(session, failure.fhir_id)
        except FhirError as error:  # FHIR unwell: this one waits for the next run
            report.failed.append(f"Communication/{failure.fhir_id}: {type(error).__name__}")
    return resources


def _due(failure: ProjectionFailure, now: datetime) -> bool:
    """The first retries come at once (most failures are put right quickly); after that a
    resource that keeps failing is tried less and less often, at least once a day, so one
    that can never project costs a FHIR read a day rather than one every run."""
    if failure.attempts <= RETRIED_AT_ONCE:
        return True
    wait = timedelta(minutes=2 ** min(failure.attempts - RETRIED_AT_ONCE, 11))
    return now - failure.last_failed_at >= min(wait, timedelta(days=1))


def _header_search(conversation: UUID | None, since: datetime | None) -> SearchParams:
    params = [("_tag", str(CONVERSATION_TAG)), ("_count", "100")]
    if conversation is not None:
        params.append(("identifier", str(conversation_identifier(conversation))))
    if since is not None:
        params.append(("_lastUpdated", f"ge{since.isoformat()}"))
    return params


async def _messages_to_project(
    sessionmaker: async_sessionmaker[AsyncSession],
    fhir: FhirGateway,
    headers: list[ConversationHeader],
    *,
    conversation: UUID | None,
    since: datetime | None,
    skipped: Callable[[str | None], None],
) -> list[Communication]:
    """Every message of Parley's threads, whoever wrote it: Parley's own (tagged) and what
    other systems posted into a Parley thread (`partOf` a Parley header, no tag). What is
    not valid FHIR is `skipped`, never allowed to stop the run."""
    if conversation is not None:
        return [
            resource
            for header in headers
            async for resource in fhir.search(
                Communication, thread_search(str(header.fhir_id)), on_invalid=skipped
            )
            if _is_sent(resource)
        ]
    params = [("_count", "100")]
    if since is not None:
        params.append(("_lastUpdated", f"ge{since.isoformat()}"))
    ours: list[Communication] = []
    others: list[Communication] = []
    async for resource in fhir.search(Communication, params, on_invalid=skipped):
        if _is_header(resource):
            continue
        if _has_tag(resource, MESSAGE_TAG):
            ours.append(resource)
        elif _is_sent(resource):
            others.append(resource)
    threads = {str(header.fhir_id) for header in headers}
    asked = {thread for resource in others if (thread := _thread_of(resource)) is not None}
    async with sessionmaker() as session:
        threads |= await rows.known_conversation_fhir_ids(session, asked - threads)
    # Another system's Communications outside Parley's threads are none of Parley's business.
    return ours + [resource for resource in others if _thread_of(resource) in threads]


def _is_sent(resource: Communication) -> bool:
    """Parley's own, or another system's that it has sent: not one it is still preparing,
    gave up on, or entered in error."""
    return _has_tag(resource, MESSAGE_TAG) or resource.status == "completed"


def _has_tag(resource: Communication, tag: Token) -> bool:
    tags = resource.meta.tag if resource.meta and resource.meta.tag else []
    return any((coding.system, coding.code) == (tag.system, tag.value) for coding in tags)


def _thread_of(resource: Communication) -> str | None:
    reference = resource.partOf[0].reference if resource.partOf else None
    if not reference or "://" in reference or not reference.startswith("Communication/"):
        return None
    return reference.removeprefix("Communication/").split("/", 1)[0]


async def _project_header(
    session: AsyncSession, header: ConversationHeader, report: ReprojectReport
) -> Conversation:
    report.conversations_seen += 1
    if not await patients.patient_exists(session, header.patient_id):
        raise Unprojectable("its patient has no Parley record")
    header = dataclasses.replace(header, subject=_clean(header.subject, multiline=False))
    row = await rows.conversation_by_uuid(session, header.uuid)
    if row is None:
        await projector.insert_conversation(session, header)
        report.conversations_created += 1
        row = await rows.conversation_by_uuid(session, header.uuid)
        assert row is not None, "inserted just now"
    else:
        await projector.apply_header(session, row, header)
    return row


async def _project_message(
    session: AsyncSession, fhir: FhirGateway, record: MessageRecord, report: ReprojectReport
) -> None:
    report.messages_seen += 1
    if await rows.message_exists(session, record.uuid):
        return
    conversation = await rows.conversation_by_fhir_id(session, record.header_fhir_id)
    if conversation is None:
        header = parse_conversation_header(await fhir.read(Communication, record.header_fhir_id))
        conversation = await _project_header(session, header, report)
    if record.patient_id != conversation.patient_id:
        raise Unprojectable("it is about another patient than its thread")
    sender_id, sender_display = await _sender(session, fhir, record)
    record = dataclasses.replace(record, text=_clean(record.text, multiline=True))
    amends_id = await _amended_row(session, fhir, record, report)
    if conversation.last_message_id is None:  # a conversation begins with its first message
        await projector.settle_start(session, conversation.id, record.sent)
    await projector.project_message(
        session,
        conversation_id=conversation.id,
        patient_id=conversation.patient_id,
        record=record,
        sender_id=sender_id,
        sender_display=sender_display,
        amends_id=amends_id,
        audit_action=None,
    )
    await session.refresh(conversation)
    audit.record(
        session,
        AuditEntry(
            action="messages.reproject",
            patient_id=conversation.patient_id,
            conversation_id=conversation.id,
            details={"message_uuid": str(record.uuid)},
        ),
    )
    report.messages_created += 1


def _clean(text: str | None, *, multiline: bool) -> str | None:
    """Text from the record as Parley stores any: what another system wrote is held to the
    rules of what a person types here."""
    try:
        return clean(text, multiline=multiline) if text is not None else None
    except ValueError as error:
        raise Unprojectable(f"its text {error}") from None


async def _sender(
    session: AsyncSession, fhir: FhirGateway, record: MessageRecord
) -> tuple[int | None, str | None]:
    """A Parley user's id; or, for another system's sender, no id and the name to show."""
    if isinstance(record.sender, ForeignParty):
        name = await name_of(fhir, record.sender)
        try:
            return None, clean(name, multiline=False)[:200].strip() or FOREIGN_SENDER
        except ValueError:  # hostile characters in a name: the message still shows
            return None, FOREIGN_SENDER
    if record.sender.kind != "user":  # a team group never writes a message itself
        raise Unprojectable("its sender is unknown to Parley")
    found = await users.users_by_ids(session, [record.sender.id])
    if not found:
        raise Unprojectable("its sender is unknown to Parley")
    return found[0].id, None


async def _amended_row(
    session: AsyncSession, fhir: FhirGateway, record: MessageRecord, report: ReprojectReport
) -> int | None:
    """The row the correction amends: the end of its original's chain, so that a
    correction that lost a race to another (both written to FHIR) still makes one chain,
    in the order they were sent, never a fork."""
    if record.amends_fhir_id is None:
        return None
    amended = await rows.message_id_by_fhir_id(session, record.amends_fhir_id)
    if amended is None:
        original = parse_message(await fhir.read(Communication, record.amends_fhir_id))
        await _project_message(session, fhir, original, report)
        amended = await rows.message_id_by_fhir_id(session, record.amends_fhir_id)
    return await rows.latest_version(session, amended) if amended is not None else None
