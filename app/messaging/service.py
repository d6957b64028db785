"""Conversations: starting one about a patient, the inbox, status, participants.

Every write goes to FHIR first (the record), then to SQL in the request's
transaction (the projection that serves reads). Sending and reading messages
is in `message_service`.
"""

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from fhir.resources.R4B.communication import Communication
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.access import service as access
from app.access.actions import Action
from app.access.policy import Actor
from app.audit import service as audit
from app.audit.service import AuditEntry
from app.auth import service as users
from app.auth.models import SystemPermission, User
from app.db import end_reads
from app.errors import ConflictError, ForbiddenError, InvalidInputError, NotFoundError
from app.events import service as events
from app.fhir.errors import FhirConflictError
from app.fhir.protocol import FhirGateway
from app.fhir.resources import (
    ConversationHeader,
    MessageRecord,
    Party,
    build_conversation_header,
    build_message,
    conversation_identifier,
    message_identifier,
    parse_conversation_header,
    parse_message,
)
from app.groups import service as groups
from app.messaging import idempotency, permissions, projection, repository
from app.messaging.idempotency import KeyedRequest
from app.messaging.models import Conversation, ConversationStatus, Message, ParticipantRole
from app.messaging.permissions import ConversationFacts, WriteRefusal
from app.messaging.records import InboxRow, ParticipantRow
from app.messaging.schemas import (
    ConversationCreate,
    ConversationDetail,
    ConversationSummary,
    LastMessageRead,
    ParticipantAdd,
    ParticipantRead,
    PersonRead,
    StatusUpdate,
)
from app.organisations import service as organisations
from app.organisations.schemas import FeatureKey
from app.organisations.service import FeatureDisabledError
from app.pagination import Page, decode_cursor, encode_cursor
from app.patients import service as patients

HEADER_UPDATE_ATTEMPTS = 3


@dataclass(frozen=True)
class ConversationView:
    """A conversation as one caller sees it."""

    conversation: Conversation
    user: User
    actor: Actor
    organisation_ids: list[int]
    facts: ConversationFacts


async def load_view(session: AsyncSession, user: User, conversation_id: int) -> ConversationView:
    """The conversation if the user may read it; otherwise 404, whether it exists or not."""
    actor = access.actor_of(user)
    conversation = await repository.load_visible(
        session, conversation_id, access.visible_conversations(actor)
    )
    if conversation is None:
        raise NotFoundError("No such conversation.")
    organisation_ids = await repository.organisation_ids(session, conversation_id)
    features = await organisations.features_of(session, organisation_ids)
    messaging = features[FeatureKey.MESSAGING]
    patient_messaging = features[FeatureKey.PATIENT_MESSAGING]
    attachments = features[FeatureKey.ATTACHMENTS]
    facts = ConversationFacts(
        status=conversation.status,
        is_participant=await repository.takes_part(session, conversation_id, user.id),
        messaging_on=bool(messaging),
        patient_messaging_on=bool(messaging & patient_messaging),
        attachments_on=bool(messaging & attachments),
    )
    return ConversationView(conversation, user, actor, organisation_ids, facts)


async def reserve_send_time(
    sessionmaker: async_sessionmaker[AsyncSession], conversation_id: int
) -> datetime:
    """The time of a new message: later than every earlier one of its conversation.

    Taken in a short transaction of its own, committed before the FHIR write (which
    must precede the request's own SQL writes): a send that then fails leaves only an
    unused moment behind. It makes the thread's order one and the same in SQL and FHIR.
    """
    now_ms = int(projection.sent_now().timestamp() * 1000)
    async with sessionmaker() as session, session.begin():
        reserved = await repository.reserve_send_ms(session, conversation_id, now_ms)
    return datetime.fromtimestamp((reserved or now_ms) / 1000, UTC)


def raise_for(refusal: WriteRefusal) -> None:
    if refusal is WriteRefusal.CLOSED:
        raise ConflictError(refusal.value)
    if refusal in (WriteRefusal.MESSAGING_OFF, WriteRefusal.PATIENT_MESSAGING_OFF):
        raise FeatureDisabledError(refusal.value)
    raise ForbiddenError(refusal.value)


async def start_conversation(
    session: AsyncSession,
    fhir: FhirGateway,
    user: User,
    data: ConversationCreate,
    request: KeyedRequest | None,
) -> ConversationDetail:
    actor = access.actor_of(user)
    await access.authorize(session, actor, Action.PATIENT_MESSAGE, data.patient_id)
    if (earlier := await idempotency.earlier_answer(session, request)) is not None:
        return ConversationDetail.model_validate_json(earlier)
    if not (await patients.read_patient(session, data.patient_id)).is_active:
        raise ConflictError("The patient is deactivated: no new conversations.")
    organisation_ids = await _conversation_organisations(session, user, actor, data.patient_id)
    invitees = await _invitees(session, user, data)
    for invitee in invitees:
        organisation_ids |= await _shared_organisations(session, invitee, data.patient_id)
    sent = projection.sent_now()
    header = ConversationHeader(
        uuid=idempotency.uuid_for(request, f"conversation about {data.patient_id}"),
        patient_id=data.patient_id,
        subject=data.subject or None,
        closed=False,
        recipients=tuple(projection.party_of_user(person) for person in [user, *invitees]),
        initiator=projection.party_of_user(user),
        organisation_ids=tuple(sorted(organisation_ids)),
    )
    await end_reads(session)
    created_header = await fhir.create_if_none_exist(
        build_conversation_header(header), identifier=conversation_identifier(header.uuid)
    )
    header = parse_conversation_header(created_header.resource)
    record = projection.text_message(
        uuid=idempotency.uuid_for(request, f"first message about {data.patient_id}"),
        header_fhir_id=str(header.fhir_id),
        patient_id=data.patient_id,
        sender=user,
        sent=sent,
        text=data.message.text,
    )
    created_message = await fhir.create_if_none_exist(
        build_message(record), identifier=message_identifier(record.uuid)
    )
    try:
        async with session.begin_nested():
            conversation = await _project_new_conversation(
                session, header, user, invitees, parse_message(created_message.resource)
            )
            detail = await get_detail(session, user, conversation.id)
            idempotency.remember(session, request, 201, detail.model_dump_json())
    except IntegrityError:
        if (earlier := await idempotency.earlier_answer(session, request)) is not None:
            return ConversationDetail.model_validate_json(earlier)
        raise ConflictError("The same conversation is being started by another request.") from None
    return detail


async def _conversation_organisations(
    session: AsyncSession, user: User, actor: Actor, patient_id: str
) -> set[int]:
    """Organisations the creator shares with the patient (else the patient's own), with
    messaging on; patients also need patient messaging."""
    patient_organisations = set(await organisations.patient_organisations(session, patient_id))
    shared = patient_organisations & await _staff_organisations(session, user)
    candidates = sorted(shared or patient_organisations)
    enabled = await organisations.organisations_with_feature(
        session, candidates, FeatureKey.MESSAGING
    )
    if not enabled:
        raise FeatureDisabledError("Messaging is off for this patient's organisation.")
    if permissions.is_patient(actor) and not await organisations.organisations_with_feature(
        session, sorted(enabled), FeatureKey.PATIENT_MESSAGING
    ):
        raise FeatureDisabledError("Patients cannot start conversations here.")
    return enabled


async def _staff_organisations(session: AsyncSession, user: User) -> set[int]:
    memberships = await organisations.memberships_of_staff(session, user.id)
    return {membership.organisation_id for membership in memberships}


async def _shared_organisations(session: AsyncSession, user: User, patient_id: str) -> set[int]:
    patient_organisations = set(await organisations.patient_organisations(session, patient_id))
    return patient_organisations & await _staff_organisations(session, user)


async def _invitees(session: AsyncSession, creator: User, data: ConversationCreate) -> list[User]:
    wanted = sorted(set(data.participant_ids) - {creator.id})
    invitees = [
        await _participant_for(session, person, data.patient_id, field="participant_ids")
        for person in await _users_named(session, wanted)
    ]
    patient_login = await users.portal_user_of(session, data.patient_id)
    if creator.fhir_patient_id == data.patient_id:
        return invitees
    if data.include_patient:
        if patient_login is None:
            raise InvalidInputError(
                "The patient has no portal login to include.", field=("body", "include_patient")
            )
        invitees.append(patient_login)
    return invitees


async def _users_named(session: AsyncSession, user_ids: list[int]) -> list[User]:
    found = await users.users_by_ids(session, user_ids)
    missing = set(user_ids) - {person.id for person in found}
    if missing:
        raise InvalidInputError(
            f"No such users: {', '.join(map(str, sorted(missing)))}.",
            field=("body", "participant_ids"),
        )
    return found


async def _participant_for(
    session: AsyncSession, person: User, patient_id: str, *, field: str
) -> User:
    """A user who may take part in a conversation about the patient, or a 422."""
    if person.fhir_patient_id == patient_id and person.is_active:
        return person
    may_read = person.is_active and await access.is_allowed(
        session, access.actor_of(person), Action.PATIENT_READ_MESSAGES, patient_id
    )
    if person.system_permissions is SystemPermission.PATIENT or not may_read:
        raise InvalidInputError(
            f"User {person.id} may not see this patient's conversations.", field=("body", field)
        )
    return person


async def _project_new_conversation(
    session: AsyncSession,
    header: ConversationHeader,
    creator: User,
    invitees: list[User],
    first: MessageRecord,
) -> Conversation:
    conversation = await repository.add_conversation(
        session,
        Conversation(
            uuid=header.uuid,
            fhir_id=header.fhir_id,
            patient_id=header.patient_id,
            subject=header.subject,
            status=ConversationStatus.NEW,
            created_by_id=creator.id,
            created_at=first.sent,
            updated_at=first.sent,
            last_message_at=first.sent,
            last_sent_ms=int(first.sent.timestamp() * 1000),
        ),
    )
    repository.add_participant(
        session,
        conversation.id,
        role=ParticipantRole.INITIATOR,
        joined_at=first.sent,
        user_id=creator.id,
    )
    for invitee in invitees:
        role = ParticipantRole.PATIENT if invitee.fhir_patient_id else ParticipantRole.MEMBER
        repository.add_participant(
            session, conversation.id, role=role, joined_at=first.sent, user_id=invitee.id
        )
    await repository.add_organisations(session, conversation.id, set(header.organisation_ids))
    audit.record(
        session,
        AuditEntry(
            action="conversations.start",
            actor_id=creator.id,
            patient_id=header.patient_id,
            conversation_id=conversation.id,
        ),
    )
    await project_message(session, conversation, first, sender=creator)
    return conversation


async def project_message(
    session: AsyncSession,
    conversation: Conversation,
    record: MessageRecord,
    *,
    sender: User,
    amends_id: int | None = None,
    audit_action: str | None = "messages.send",
) -> Message:
    """The SQL side of a send: the row, the conversation's pointers, receipts, the audit row."""
    message = await repository.add_message(
        session, projection.message_row(record, conversation.id, sender.id, amends_id)
    )
    await repository.record_new_message(
        session,
        conversation_id=conversation.id,
        message_id=message.id,
        sent_at=record.sent,
        sender_id=sender.id,
    )
    await repository.set_read_marker(session, conversation.id, sender.id, record.sent)
    recipients = await repository.recipient_ids(session, conversation.id, sender_id=sender.id)
    await repository.add_receipts(
        session, message_id=message.id, conversation_id=conversation.id, user_ids=recipients
    )
    await events.publish(
        session, "message.created", conversation.id, message_id=message.id, sender_id=sender.id
    )
    if audit_action is not None:
        audit.record(
            session,
            AuditEntry(
                action=audit_action,
                actor_id=sender.id,
                patient_id=conversation.patient_id,
                conversation_id=conversation.id,
                details={"message_id": message.id},
            ),
        )
    return message


async def list_inbox(
    session: AsyncSession,
    user: User,
    *,
    status: ConversationStatus | None,
    patient_id: str | None,
    cursor: str | None,
    limit: int,
) -> Page[ConversationSummary]:
    """Newest activity first; a fixed number of queries, whatever the page or thread size."""
    after = decode_cursor(cursor, datetime, int) if cursor else None
    rows = await repository.inbox_page(
        session,
        visible=access.visible_conversations(access.actor_of(user)),
        status=status,
        patient_id=patient_id,
        after=after,
        limit=limit + 1,
    )
    page = rows[:limit]
    summaries = await _summaries(session, user, page)
    last = page[-1].conversation if len(rows) > limit else None
    next_cursor = encode_cursor(last.last_message_at.isoformat(), last.id) if last else None
    return Page(items=summaries, next_cursor=next_cursor)


async def _summaries(
    session: AsyncSession, user: User, rows: list[InboxRow]
) -> list[ConversationSummary]:
    ids = [row.conversation.id for row in rows]
    participants = await repository.participants_of(session, ids)
    unread = await repository.unread_counts(session, user.id, ids)
    return [
        ConversationSummary(
            id=row.conversation.id,
            patient_id=row.conversation.patient_id,
            subject=row.conversation.subject,
            status=row.conversation.status,
            participants=[
                _participant_read(item) for item in participants.get(row.conversation.id, [])
            ],
            last_message=_last_message(row),
            unread_count=unread.get(row.conversation.id, 0),
            updated_at=row.conversation.updated_at,
        )
        for row in rows
    ]


def _participant_read(row: ParticipantRow) -> ParticipantRead:
    return ParticipantRead(
        kind="user" if row.kind == "user" else "group", id=row.id, name=row.name, role=row.role
    )


def _last_message(row: InboxRow) -> LastMessageRead | None:
    message = row.last_message
    if message is None:
        return None
    return LastMessageRead(
        id=message.id,
        sender=PersonRead(id=message.sender_id, name=row.last_sender_name or ""),
        preview=projection.preview(message.body),
        sent_at=message.created_at,
    )


async def get_detail(session: AsyncSession, user: User, conversation_id: int) -> ConversationDetail:
    view = await load_view(session, user, conversation_id)
    return await detail_of(session, view)


async def detail_of(session: AsyncSession, view: ConversationView) -> ConversationDetail:
    conversation = view.conversation
    await session.refresh(conversation)
    last = None
    if conversation.last_message_id is not None:
        message, name = await repository.message_with_sender(session, conversation.last_message_id)
        last = InboxRow(conversation, message, name)
    row = last or InboxRow(conversation, None, None)
    summary = (await _summaries(session, view.user, [row]))[0]
    refusal = permissions.write_refusal(view.actor, view.facts)
    return ConversationDetail(
        **summary.model_dump(),
        fhir_id=conversation.fhir_id,
        organisation_ids=view.organisation_ids,
        is_participant=view.facts.is_participant,
        can_write=refusal is None,
        cannot_write_because=refusal.value if refusal else None,
    )


async def change_status(
    session: AsyncSession, fhir: FhirGateway, user: User, conversation_id: int, data: StatusUpdate
) -> ConversationDetail:
    view = await load_view(session, user, conversation_id)
    if not permissions.can_change_status(view.actor):
        raise ForbiddenError("Only staff who may message patients close or reopen conversations.")
    conversation = view.conversation
    closing = data.status is ConversationStatus.CLOSED
    if (conversation.status is ConversationStatus.CLOSED) == closing:
        return await detail_of(session, view)
    await end_reads(session)
    await update_header(
        fhir, conversation.fhir_id, lambda header: dataclasses.replace(header, closed=closing)
    )
    conversation.status = data.status
    conversation.updated_at = projection.sent_now()
    await events.publish(session, "conversation.updated", conversation.id, status=data.status.value)
    audit.record(
        session,
        AuditEntry(
            action="conversations.close" if closing else "conversations.reopen",
            actor_id=user.id,
            patient_id=conversation.patient_id,
            conversation_id=conversation.id,
        ),
    )
    await session.flush()
    return await detail_of(
        session,
        dataclasses.replace(view, facts=dataclasses.replace(view.facts, status=data.status)),
    )


async def update_header(
    fhir: FhirGateway, fhir_id: str, change: Callable[[ConversationHeader], ConversationHeader]
) -> None:
    """Read, change and write the thread header, retrying when someone else wrote first."""
    for attempt in range(HEADER_UPDATE_ATTEMPTS):
        current = await fhir.read(Communication, fhir_id)
        version = current.meta.versionId if current.meta else None
        changed = change(parse_conversation_header(current))
        try:
            await fhir.update(build_conversation_header(changed), if_match=str(version))
            return
        except FhirConflictError:
            if attempt == HEADER_UPDATE_ATTEMPTS - 1:
                raise


async def add_participant(
    session: AsyncSession,
    fhir: FhirGateway,
    user: User,
    conversation_id: int,
    data: ParticipantAdd,
) -> ConversationDetail:
    """Add a user who may see the patient (the organisations they share with the patient
    join the conversation), or a team group of one of the patient's organisations (its
    members take part through the group, and stop when they leave it)."""
    view = await load_view(session, user, conversation_id)
    if permissions.is_patient(view.actor) or not view.facts.is_participant:
        raise ForbiddenError("Only staff taking part in the conversation add participants.")
    patient_id = view.conversation.patient_id
    if data.group_id is not None:
        patient_organisations = set(await organisations.patient_organisations(session, patient_id))
        group = await groups.group_in_organisations(session, data.group_id, patient_organisations)
        if group is None:
            raise InvalidInputError(
                "The group must belong to one of the patient's organisations.",
                field=("body", "group_id"),
            )
        newcomer = Newcomer(Party(kind="group", id=group.id, display=group.name), set())
    else:
        person = (await _users_named(session, [int(data.user_id or 0)]))[0]
        await _participant_for(session, person, patient_id, field="user_id")
        newcomer = Newcomer(
            projection.party_of_user(person),
            await _shared_organisations(session, person, patient_id),
            ParticipantRole.PATIENT if person.fhir_patient_id else ParticipantRole.MEMBER,
        )
    await _admit(session, fhir, view, newcomer)
    return await detail_of(session, await load_view(session, user, conversation_id))


async def join(
    session: AsyncSession, fhir: FhirGateway, user: User, conversation_id: int
) -> ConversationDetail:
    """Staff of one of the conversation's organisations take part in it."""
    view = await load_view(session, user, conversation_id)
    if permissions.is_patient(view.actor):
        raise ForbiddenError("Patients take part when they are added.")
    shared = await _shared_organisations(session, user, view.conversation.patient_id)
    if not shared & set(view.organisation_ids):
        raise ForbiddenError("Only staff of the conversation's organisations join it.")
    await _admit(session, fhir, view, Newcomer(projection.party_of_user(user), set()))
    return await detail_of(session, await load_view(session, user, conversation_id))


@dataclass(frozen=True)
class Newcomer:
    party: Party
    organisation_ids: set[int]
    role: ParticipantRole = ParticipantRole.MEMBER


async def _admit(
    session: AsyncSession, fhir: FhirGateway, view: ConversationView, newcomer: Newcomer
) -> None:
    """FHIR's header first, then the rows; someone already taking part changes nothing."""
    conversation = view.conversation
    present = await repository.participant_keys(session, conversation.id)
    if (newcomer.party.kind, newcomer.party.id) in present:
        return

    def with_newcomer(header: ConversationHeader) -> ConversationHeader:
        recipients = header.recipients
        if newcomer.party not in recipients:
            recipients = (*recipients, newcomer.party)
        joined = tuple(sorted(set(header.organisation_ids) | newcomer.organisation_ids))
        return dataclasses.replace(header, recipients=recipients, organisation_ids=joined)

    await end_reads(session)
    await update_header(fhir, conversation.fhir_id, with_newcomer)
    is_group = newcomer.party.kind == "group"
    repository.add_participant(
        session,
        conversation.id,
        role=newcomer.role,
        joined_at=projection.sent_now(),
        user_id=None if is_group else newcomer.party.id,
        group_id=newcomer.party.id if is_group else None,
    )
    await repository.add_organisations(session, conversation.id, newcomer.organisation_ids)
    await events.publish(
        session, "conversation.updated", conversation.id, participants_changed=True
    )
    audit.record(
        session,
        AuditEntry(
            action="conversations.add_participant",
            actor_id=view.user.id,
            target_user_id=None if is_group else newcomer.party.id,
            patient_id=conversation.patient_id,
            conversation_id=conversation.id,
            details={"group_id": newcomer.party.id} if is_group else {},
        ),
    )
