"""Conversations: starting one about a patient, the inbox, status, participants.

Every write goes to FHIR first (the record), then to SQL in the request's
transaction (the projection that serves reads). Sending and reading messages
is in `message_service`.
"""

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fhir.resources.R4B.communication import Communication
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.access import service as access
from app.access.actions import Action, Relation
from app.access.policy import Actor, Facts, Outcome
from app.audit import log as audit
from app.audit.log import AuditEntry
from app.auth import service as users
from app.auth.models import User
from app.db import end_reads
from app.errors import ConflictError, InvalidInputError, NotFoundError
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
from app.messaging import idempotency, projection, repository
from app.messaging.idempotency import KeyedRequest
from app.messaging.models import Conversation, ConversationStatus, Message, ParticipantRole
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
from app.pagination import Page, decode_cursor, encode_cursor
from app.patients import service as patients

HEADER_UPDATE_ATTEMPTS = 3


@dataclass(frozen=True)
class ConversationView:
    """A conversation as one caller sees it, once `app.access` allowed them an action."""

    conversation: Conversation
    user: User
    actor: Actor
    organisation_ids: list[int]
    facts: Facts

    @property
    def is_participant(self) -> bool:
        return Relation.PARTICIPANT in self.facts.relations

    @property
    def attachments_on(self) -> bool:
        return frozenset({FeatureKey.MESSAGING, FeatureKey.ATTACHMENTS}) in self.facts.feature_sets

    def may(self, action: Action) -> bool:
        """Whether the caller may do `action` here, from the facts already loaded."""
        return access.refusal(self.actor, action, self.facts) is None

    def write_refusal(self) -> str | None:
        """Why the caller may not write here now, or None when they may."""
        if self.conversation.status is ConversationStatus.CLOSED:
            return CLOSED
        refused = access.refusal(self.actor, Action.CONVERSATION_WRITE, self.facts)
        return refused.reason if refused else None


CLOSED = "The conversation is closed; staff can reopen it."


async def load_view(
    session: AsyncSession,
    user: User,
    conversation_id: int,
    action: Action = Action.CONVERSATION_READ,
) -> ConversationView:
    """The conversation if the user may do `action` in it: 404 when they may not see it
    (whether it exists or not), 403 when they see it but may not do this."""
    actor = access.actor_of(user)
    facts = await access.authorize(session, actor, action, conversation_id)
    conversation = await repository.get_conversation(session, conversation_id)
    if conversation is None:  # deleted between the two reads
        raise NotFoundError("No such conversation.")
    organisation_ids = await repository.organisation_ids(session, conversation_id)
    return ConversationView(conversation, user, actor, organisation_ids, facts)


def refuse_if_closed(view: ConversationView) -> None:
    if view.conversation.status is ConversationStatus.CLOSED:
        raise ConflictError(CLOSED)


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
    if not await patients.is_active(session, data.patient_id):
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
    patients_may_write = await organisations.organisations_with_feature(
        session, sorted(enabled), FeatureKey.PATIENT_MESSAGING
    )
    if not enabled or (actor.patient_id is not None and not patients_may_write):
        raise access.refused(
            session,
            actor,
            Action.PATIENT_MESSAGE,
            target=patient_id,
            patient_id=patient_id,
            outcome=Outcome.FEATURE_OFF,
            reason="Messaging is switched off for this patient's organisations."
            if not enabled
            else "Patients cannot start conversations here.",
        )
    return enabled


async def _staff_organisations(session: AsyncSession, user: User) -> set[int]:
    memberships = await organisations.memberships_of_staff(session, user.id)
    return {membership.organisation_id for membership in memberships}


async def _shared_organisations(session: AsyncSession, user: User, patient_id: str) -> set[int]:
    patient_organisations = set(await organisations.patient_organisations(session, patient_id))
    return patient_organisations & await _staff_organisations(session, user)


async def _invitees(session: AsyncSession, creator: User, data: ConversationCreate) -> list[User]:
    wanted = sorted(set(data.participant_ids) - {creator.id})
    invitees = await _participants(session, wanted, data.patient_id, field="participant_ids")
    if creator.fhir_patient_id == data.patient_id:
        return invitees
    if data.include_patient:
        patient_login = await users.portal_user_of(session, data.patient_id)
        if patient_login is None:
            raise InvalidInputError(
                "The patient has no portal login to include.", field=("body", "include_patient")
            )
        invitees.append(patient_login)
    return invitees


async def _participants(
    session: AsyncSession, user_ids: list[int], patient_id: str, *, field: str
) -> list[User]:
    """Users who may take part in a conversation about the patient, or one 422 for all who
    may not, whether they exist or not: the answer tells nothing about other accounts."""
    found = {person.id: person for person in await users.users_by_ids(session, user_ids)}
    eligible = [
        found[user_id]
        for user_id in user_ids
        if user_id in found
        and found[user_id].is_active
        and await access.is_allowed(
            session,
            access.actor_of(found[user_id]),
            Action.PATIENT_READ_MESSAGES,
            patient_id,
        )
    ]
    refused = sorted(set(user_ids) - {person.id for person in eligible})
    if refused:
        raise InvalidInputError(
            "These users cannot take part in a conversation about this patient: "
            f"{', '.join(map(str, refused))}.",
            field=("body", field),
        )
    return eligible


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
        repository.add_participant(
            session,
            conversation.id,
            role=_role_of(invitee),
            joined_at=first.sent,
            user_id=invitee.id,
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


def _role_of(person: User) -> ParticipantRole:
    is_patient = access.actor_of(person).patient_id is not None
    return ParticipantRole.PATIENT if is_patient else ParticipantRole.MEMBER


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
    shown: dict[str, list[int]] = {}
    for row in page:
        shown.setdefault(row.conversation.patient_id, []).append(row.conversation.id)
    audit.record_seen(session, action="conversations.list", actor_id=user.id, seen=shown)
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
    _audit(session, view, "conversations.read")
    return await detail_of(session, view)


def _audit(session: AsyncSession, view: ConversationView, action: str, **fields: Any) -> None:
    audit.record(
        session,
        AuditEntry(
            action=action,
            actor_id=view.user.id,
            patient_id=view.conversation.patient_id,
            conversation_id=view.conversation.id,
            **fields,
        ),
    )


async def detail_of(session: AsyncSession, view: ConversationView) -> ConversationDetail:
    conversation = view.conversation
    await session.refresh(conversation)
    last = None
    if conversation.last_message_id is not None:
        message, name = await repository.message_with_sender(session, conversation.last_message_id)
        last = InboxRow(conversation, message, name)
    row = last or InboxRow(conversation, None, None)
    summary = (await _summaries(session, view.user, [row]))[0]
    refusal = view.write_refusal()
    return ConversationDetail(
        **summary.model_dump(),
        fhir_id=conversation.fhir_id,
        organisation_ids=view.organisation_ids,
        is_participant=view.is_participant,
        can_write=refusal is None,
        cannot_write_because=refusal,
        can_join=not view.is_participant and view.may(Action.CONVERSATION_JOIN),
        can_change_status=view.may(Action.CONVERSATION_CHANGE_STATUS),
    )


async def change_status(
    session: AsyncSession, fhir: FhirGateway, user: User, conversation_id: int, data: StatusUpdate
) -> ConversationDetail:
    view = await load_view(session, user, conversation_id, Action.CONVERSATION_CHANGE_STATUS)
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
    _audit(session, view, "conversations.close" if closing else "conversations.reopen")
    await session.flush()
    return await detail_of(session, view)


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
    view = await load_view(session, user, conversation_id, Action.CONVERSATION_ADD_PARTICIPANT)
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
        person = (
            await _participants(session, [int(data.user_id or 0)], patient_id, field="user_id")
        )[0]
        newcomer = Newcomer(
            projection.party_of_user(person),
            await _shared_organisations(session, person, patient_id),
            _role_of(person),
        )
    await _admit(session, fhir, view, newcomer)
    return await detail_of(session, await load_view(session, user, conversation_id))


async def join(
    session: AsyncSession, fhir: FhirGateway, user: User, conversation_id: int
) -> ConversationDetail:
    """Staff of one of the conversation's organisations take part in it."""
    view = await load_view(session, user, conversation_id, Action.CONVERSATION_JOIN)
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
    _audit(
        session,
        view,
        "conversations.add_participant",
        target_user_id=None if is_group else newcomer.party.id,
        details={"group_id": newcomer.party.id} if is_group else {},
    )
