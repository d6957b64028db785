"""Conversations: starting one about a patient, its status, subject and participants.

Every write goes to FHIR first (the record), then to SQL in the request's transaction
(the projection that serves reads), through `write_path`. Sending messages is in
`sending`; the inbox and the thread as people read them are in `inbox_view` and
`thread_view`.
"""

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fhir.resources.R4B.communication import Communication
from sqlalchemy.ext.asyncio import AsyncSession

from app.access import service as access
from app.access.actions import Action
from app.access.policy import Actor, Outcome
from app.accounts.models import SystemPermission, User
from app.audit import log as audit
from app.audit.log import AuditEntry
from app.auth import service as users
from app.conversations.models import ConversationStatus, Priority
from app.db import end_reads
from app.directory.groups import Group
from app.directory.organisations import FeatureKey
from app.errors import ConflictError, InvalidInputError
from app.events import service as events
from app.fhir.errors import FhirConflictError
from app.fhir.ownership import merged_header
from app.fhir.protocol import FhirGateway
from app.fhir.resources import (
    ConversationHeader,
    Party,
    build_conversation_header,
    build_message,
    conversation_identifier,
    message_identifier,
    parse_conversation_header,
    parse_message,
)
from app.groups import service as groups
from app.idempotency import keys as idempotency
from app.idempotency.keys import KeyedRequest
from app.messaging import (
    clock,
    inbox_view,
    projection,
    projector,
    repository,
    write_path,
)
from app.messaging.gate import ConversationView, load_view
from app.messaging.schemas import (
    ConversationCreate,
    ConversationDetail,
    ParticipantAdd,
    StatusUpdate,
)
from app.organisations import service as organisations
from app.patients import service as patients

HEADER_UPDATE_ATTEMPTS = 3


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
    if user.system_permissions is SystemPermission.PATIENT:
        _refuse_triage_from_a_patient(session, user, data)
    organisation_ids = await _conversation_organisations(session, user, actor, data.patient_id)
    invitees = await _invitees(session, user, data)
    for invitee in invitees:
        organisation_ids |= await _shared_organisations(session, invitee, data.patient_id)
    teams = await _teams(session, user, data)
    sent = clock.now_to_the_millisecond()
    parties = (
        *(projection.party_of_user(person) for person in [user, *invitees]),
        *teams,
    )
    header = ConversationHeader(
        uuid=idempotency.uuid_for(request, f"conversation about {data.patient_id}"),
        patient_id=data.patient_id,
        subject=data.subject or None,
        closed=False,
        recipients=parties,
        initiator=projection.party_of_user(user),
        organisation_ids=tuple(sorted(organisation_ids)),
        joined={(party.kind, party.id): sent for party in parties},
        organisations_joined=dict.fromkeys(organisation_ids, sent),
        priority=data.priority.value,
    )
    await end_reads(session)
    header = await write_path.create_first(
        fhir,
        build_conversation_header(header),
        identifier=conversation_identifier(header.uuid),
        parse=parse_conversation_header,
        is_own=lambda found: (
            found.patient_id == data.patient_id
            and found.initiator is not None
            # Who, not how they are named: a retry after the user's Practitioner appeared
            # names them by it, and is still theirs.
            and (found.initiator.kind, found.initiator.id) == ("user", user.id)
        ),
    )
    first_message = projection.text_message(
        uuid=idempotency.uuid_for(request, f"first message about {data.patient_id}"),
        header_fhir_id=str(header.fhir_id),
        patient_id=data.patient_id,
        sender=user,
        recipients=projection.recipients_of(header.recipients, user),
        sent=sent,
        text=data.message.text,
    )
    first = await write_path.create_first(
        fhir,
        build_message(first_message),
        identifier=message_identifier(first_message.uuid),
        parse=parse_message,
        is_own=lambda found: found.header_fhir_id == header.fhir_id and found.sent_by(user.id),
    )

    async def project() -> ConversationDetail:
        conversation_id = await projector.insert_conversation(session, header, started=first.sent)
        await audit.record_at_once(
            session,
            AuditEntry(
                action="conversations.start",
                actor_id=user.id,
                patient_id=header.patient_id,
                conversation_id=conversation_id,
            ),
        )
        await projector.project_message(
            session,
            conversation_id=conversation_id,
            patient_id=header.patient_id,
            record=first,
            sender_id=user.id,
        )
        detail = await get_detail(session, user, conversation_id)
        idempotency.remember(session, request, 201, detail.model_dump_json())
        return detail

    async def projected_before() -> ConversationDetail | None:
        if (earlier := await idempotency.earlier_answer(session, request)) is not None:
            return ConversationDetail.model_validate_json(earlier)
        existing = await repository.conversation_by_uuid(session, header.uuid)
        return await get_detail(session, user, existing.id) if existing else None

    return await write_path.project_once(
        session, project, projected_before=projected_before, keep=(user,)
    )


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


def _refuse_triage_from_a_patient(
    session: AsyncSession, user: User, data: ConversationCreate
) -> None:
    """Urgency and team groups are the care team's: a patient's emergency is for 999 or
    111, and which teams a practice has is not a patient's to read. Refusals are audited."""
    field = (
        "priority" if data.priority is Priority.URGENT else "group_ids" if data.group_ids else None
    )
    if field is None:
        return
    audit.record_refusal(
        session,
        AuditEntry(
            action="conversations.start",
            outcome=audit.DENIED,
            reason=f"{field}-not-allowed",
            actor_id=user.id,
            patient_id=data.patient_id,
        ),
    )
    said = {
        "priority": "Only the care team marks a conversation urgent.",
        "group_ids": "Only the care team adds team groups.",
    }
    raise InvalidInputError(said[field], field=("body", field))


async def _teams(session: AsyncSession, user: User, data: ConversationCreate) -> list[Party]:
    """The team groups asked for, each of one of the patient's organisations, or one 422
    naming those that are not (audited: someone may be trying ids)."""
    patient_organisations = set(await organisations.patient_organisations(session, data.patient_id))
    teams, refused = [], []
    for group_id in sorted(set(data.group_ids)):
        group = await groups.group_in_organisations(session, group_id, patient_organisations)
        if group is None:
            refused.append(group_id)
        else:
            teams.append(_team_party(group))
    if refused:
        audit.record_refusal(
            session,
            AuditEntry(
                action="conversations.start",
                outcome=audit.DENIED,
                reason="not-a-team-of-the-patient",
                actor_id=user.id,
                patient_id=data.patient_id,
            ),
        )
        raise InvalidInputError(
            "These groups are not teams of the patient's organisations: "
            f"{', '.join(map(str, refused))}.",
            field=("body", "group_ids"),
        )
    return teams


def _team_party(group: Group) -> Party:
    return Party(
        kind="group",
        id=group.id,
        display=group.name,
        resource=f"Group/{group.fhir_id}" if group.fhir_id else None,
    )


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


async def get_detail(session: AsyncSession, user: User, conversation_id: int) -> ConversationDetail:
    view = await load_view(session, user, conversation_id)
    audit_view(session, view, "conversations.read")
    return await detail_of(session, view)


def audit_view(session: AsyncSession, view: ConversationView, action: str, **fields: Any) -> None:
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
    row = await repository.conversation_row(session, conversation.id, view.user.id)
    staff = view.user.system_permissions is not SystemPermission.PATIENT
    summary = inbox_view.summary_of(row, for_staff=staff)
    refusal = view.write_refusal()
    return ConversationDetail(
        **summary.model_dump(),
        fhir_id=conversation.fhir_id,
        organisation_ids=await repository.organisation_ids(session, conversation.id),
        is_participant=view.is_participant,
        can_write=refusal is None,
        cannot_write_because=refusal,
        can_join=not view.is_participant and view.may(Action.CONVERSATION_JOIN),
        can_change_status=view.may(Action.CONVERSATION_CHANGE_STATUS),
    )


async def change_status(
    session: AsyncSession, fhir: FhirGateway, user: User, conversation_id: int, data: StatusUpdate
) -> ConversationDetail:
    """Close or reopen, and mark urgent or routine: the thread header first (its `status`
    and `priority`), then the row; what is already so changes nothing."""
    view = await load_view(session, user, conversation_id, Action.CONVERSATION_CHANGE_STATUS)
    conversation = view.conversation
    closing = data.status is ConversationStatus.CLOSED if data.status is not None else None
    if closing is not None and (conversation.status is ConversationStatus.CLOSED) == closing:
        closing = None
    urgent = data.priority is Priority.URGENT if data.priority is not None else None
    if urgent is not None and (conversation.priority is Priority.URGENT) == urgent:
        urgent = None
    if closing is None and urgent is None:
        return await detail_of(session, view)
    await end_reads(session)

    def change(header: ConversationHeader) -> ConversationHeader:
        if closing is not None:
            moment = clock.now_to_the_millisecond()
            header = dataclasses.replace(header, closed=closing, status_changed=moment)
        if urgent is not None:
            header = dataclasses.replace(header, priority="urgent" if urgent else "routine")
        return header

    header = await update_header(fhir, conversation.fhir_id, change)
    await projector.apply_header(session, conversation, header)
    changed: dict[str, str] = {}
    if closing is not None:
        changed["status"] = ConversationStatus.CLOSED if closing else ConversationStatus.ACTIVE
        audit_view(session, view, "conversations.close" if closing else "conversations.reopen")
    if urgent is not None:
        changed["priority"] = Priority.URGENT if urgent else Priority.ROUTINE
        audit_view(
            session, view, "conversations.priority", details={"priority": changed["priority"]}
        )
    # The status, as before; a new priority by name only (it is the care team's).
    status = {"status": changed["status"]} if "status" in changed else {}
    await events.publish(
        session, "conversation.updated", conversation.id, **status, changed=",".join(changed)
    )
    await session.flush()
    return await detail_of(session, view)


async def update_header(
    fhir: FhirGateway, fhir_id: str, change: Callable[[ConversationHeader], ConversationHeader]
) -> ConversationHeader:
    """Read, change and write the thread header, retrying when someone else wrote first;
    answers the header as written."""
    for attempt in range(HEADER_UPDATE_ATTEMPTS):
        current = await fhir.read(Communication, fhir_id)
        version = current.meta.versionId if current.meta else None
        changed = change(parse_conversation_header(current))
        try:
            # Only Parley's elements change: what other systems wrote there stays.
            await fhir.update(merged_header(current, changed), if_match=str(version))
            return changed
        except FhirConflictError:
            if attempt == HEADER_UPDATE_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable: the last attempt returns or raises")


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
        newcomer = Newcomer(_team_party(group), set())
    else:
        person = (
            await _participants(session, [int(data.user_id or 0)], patient_id, field="user_id")
        )[0]
        newcomer = Newcomer(
            projection.party_of_user(person),
            await _shared_organisations(session, person, patient_id),
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


async def _admit(
    session: AsyncSession, fhir: FhirGateway, view: ConversationView, newcomer: Newcomer
) -> None:
    """FHIR's header first, then the rows; someone already taking part changes nothing."""
    conversation = view.conversation
    present = await repository.participant_keys(session, conversation.id)
    if (newcomer.party.kind, newcomer.party.id) in present:
        return

    def with_newcomer(header: ConversationHeader) -> ConversationHeader:
        now = clock.now_to_the_millisecond()
        key = (newcomer.party.kind, newcomer.party.id)
        recipients, joined = header.recipients, header.joined
        if key not in {(party.kind, party.id) for party in recipients}:
            recipients, joined = (*recipients, newcomer.party), {**joined, key: now}
        arriving = newcomer.organisation_ids - set(header.organisation_ids)
        return dataclasses.replace(
            header,
            recipients=recipients,
            joined=joined,
            organisation_ids=tuple(sorted(set(header.organisation_ids) | arriving)),
            organisations_joined={**header.organisations_joined, **dict.fromkeys(arriving, now)},
        )

    await end_reads(session)
    header = await update_header(fhir, conversation.fhir_id, with_newcomer)
    await projector.apply_header(session, conversation, header)
    is_group = newcomer.party.kind == "group"
    await events.publish(
        session, "conversation.updated", conversation.id, participants_changed=True
    )
    audit_view(
        session,
        view,
        "conversations.add_participant",
        target_user_id=None if is_group else newcomer.party.id,
        details={"group_id": newcomer.party.id} if is_group else {},
    )
