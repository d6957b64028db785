"""Care-team triage of a conversation: whose it is (one person or one team group of its
organisations) and whether the team's work on it is done. Both live in a FHIR `Task`,
written first; the `conversation_tasks` row follows. Done is not closed: a done
conversation still takes messages, and a patient's message opens it again.

Who may do this is who may close or reopen it (`CONVERSATION_CHANGE_STATUS`): the care
team, who may message patients."""

import uuid
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.access import service as access
from app.access.actions import Action
from app.accounts import repository as users_repository
from app.accounts.models import SystemPermission, User
from app.audit import log as audit
from app.audit.log import AuditEntry
from app.conversations.models import ConversationTask, TaskStatus
from app.db import end_reads, utc_now
from app.errors import ConflictError, InvalidInputError
from app.events import service as events
from app.fhir.protocol import FhirGateway
from app.groups import service as groups
from app.messaging import repository
from app.messaging.conversations import audit_view, detail_of
from app.messaging.gate import ConversationView, load_view
from app.messaging.schemas import AssigneeUpdate, ConversationDetail, DoneUpdate
from app.messaging.task_record import Owner, current_owner, write_task
from app.organisations import service as organisations

TASK_NAMESPACE = uuid.UUID("5d0c8a52-3f4e-4b1a-9a7c-2e6f1d8b9c30")


async def assign(
    session: AsyncSession,
    fhir: FhirGateway,
    user: User,
    conversation_id: int,
    data: AssigneeUpdate,
) -> ConversationDetail:
    view = await load_view(session, user, conversation_id, Action.CONVERSATION_CHANGE_STATUS)
    owner = await _owner_for(session, fhir, view, data)
    task = await _task(session, view)
    await end_reads(session)
    now = utc_now()
    await write_task(
        fhir, view.conversation, task, owner=owner, status=task.status, note=task.done_note, now=now
    )
    task.assignee_user_id, task.assignee_group_id = data.user_id, data.group_id
    task.updated_at = now
    await _save(session, task)
    assignee = {"user_id": data.user_id} if data.user_id else {"group_id": data.group_id}
    # Events name what changed, not whom: a patient's page hears of them too.
    await events.publish(session, "conversation.updated", conversation_id, changed="assignee")
    audit_view(session, view, "conversations.assign", details=assignee)
    return await detail_of(session, view)


async def unassign(
    session: AsyncSession, fhir: FhirGateway, user: User, conversation_id: int
) -> ConversationDetail:
    view = await load_view(session, user, conversation_id, Action.CONVERSATION_CHANGE_STATUS)
    task = await _task(session, view)
    if task.assignee_user_id is None and task.assignee_group_id is None:
        return await detail_of(session, view)
    await end_reads(session)
    now = utc_now()
    await write_task(
        fhir, view.conversation, task, owner=None, status=task.status, note=task.done_note, now=now
    )
    task.assignee_user_id = task.assignee_group_id = None
    task.updated_at = now
    await _save(session, task)
    await events.publish(session, "conversation.updated", conversation_id, changed="assignee")
    audit_view(session, view, "conversations.unassign")
    return await detail_of(session, view)


async def mark_done(
    session: AsyncSession,
    fhir: FhirGateway,
    user: User,
    conversation_id: int,
    data: DoneUpdate,
    *,
    done: bool,
) -> ConversationDetail:
    """Done (the Task completed, with the note) or open again (`done` False)."""
    view = await load_view(session, user, conversation_id, Action.CONVERSATION_CHANGE_STATUS)
    task = await _task(session, view)
    if (task.status is TaskStatus.COMPLETED) == done:
        return await detail_of(session, view)
    owner = await current_owner(session, task)
    await end_reads(session)
    now = utc_now()
    status = TaskStatus.COMPLETED if done else TaskStatus.REQUESTED
    note = data.note if done else None
    await write_task(fhir, view.conversation, task, owner=owner, status=status, note=note, now=now)
    task.status = status
    task.done_at = now if done else None
    task.done_by_id = user.id if done else None
    task.done_note = note
    task.updated_at = now
    await _save(session, task)
    if done:
        # The team has dealt with it, by reply or otherwise: the patient's wait is over,
        # and their next message starts a new one.
        await repository.end_wait(session, conversation_id)
    await events.publish(session, "conversation.updated", conversation_id, changed="done")
    audit_view(session, view, "conversations.done" if done else "conversations.undone")
    return await detail_of(session, view)


@dataclass(frozen=True)
class Assignable:
    """Whom work may be offered to on a conversation's page: the staff and the team groups
    of its organisations (`assign` checks the one chosen, as for the API)."""

    people: list[tuple[int, str]]
    groups: list[tuple[int, str]]


async def assignable(session: AsyncSession, user: User, conversation_id: int) -> Assignable:
    """Only the organisations the caller staffs themselves: someone who may triage through
    an external grant is not shown a practice's staff list."""
    view = await load_view(session, user, conversation_id, Action.CONVERSATION_CHANGE_STATUS)
    theirs = {
        each.organisation_id for each in await organisations.memberships_of_staff(session, user.id)
    }
    organisation_ids = theirs & set(
        await repository.organisation_ids(session, view.conversation.id)
    )
    people: dict[int, str] = {}
    for organisation_id in sorted(organisation_ids):
        for person in await organisations.active_staff_of(session, organisation_id):
            people[person.id] = person.name
    teams = await groups.of_organisations(session, organisation_ids)
    return Assignable(
        people=sorted(people.items(), key=lambda item: (item[1], item[0])),
        groups=[(group.id, group.name) for group in teams],
    )


async def _task(session: AsyncSession, view: ConversationView) -> ConversationTask:
    """The conversation's task, or a new one (not yet added: FHIR hears of it first)."""
    conversation = view.conversation
    task = await repository.task_of(session, conversation.id)
    if task is not None:
        return task
    return ConversationTask(
        conversation_id=conversation.id,
        # One Task per conversation, whoever makes it first: two first assignments at
        # once write the same Task, never two.
        fhir_id=str(uuid.uuid5(TASK_NAMESPACE, str(conversation.uuid))),
        status=TaskStatus.REQUESTED,
        created_at=utc_now(),
    )


async def _owner_for(
    session: AsyncSession, fhir: FhirGateway, view: ConversationView, data: AssigneeUpdate
) -> Owner:
    """The person or team asked for, if they belong to one of the conversation's
    organisations (so they may read it); a person not yet in FHIR is published first."""
    organisation_ids = set(await repository.organisation_ids(session, view.conversation.id))
    if data.group_id is not None:
        group = await groups.group_in_organisations(session, data.group_id, organisation_ids)
        if group is None:
            _refused(session, view, "not-an-assignee")
            raise InvalidInputError(
                "Assign to a team group of the conversation's organisations.",
                field=("body", "group_id"),
            )
        return Owner(f"Group/{group.fhir_id}" if group.fhir_id else None, group.name)
    assert data.user_id is not None, "AssigneeUpdate names a user or a group"
    person = await users_repository.get_user(session, data.user_id)
    memberships = await organisations.memberships_of_staff(session, data.user_id)
    if (
        person is None
        or not person.is_active
        or person.system_permissions is SystemPermission.PATIENT
        or not organisation_ids & {each.organisation_id for each in memberships}
        # Work given to someone who cannot open it would sit unseen.
        or not await access.is_allowed(
            session, access.actor_of(person), Action.CONVERSATION_READ, view.conversation.id
        )
    ):
        _refused(session, view, "not-an-assignee")
        raise InvalidInputError(
            "Assign to a staff member of the conversation's organisations who may read it.",
            field=("body", "user_id"),
        )
    # A Practitioner not yet published is named by its name alone (publish-directory
    # catches it up); publishing here would change the user's row before FHIR is written.
    reference = person.fhir_practitioner_id
    return Owner(f"Practitioner/{reference}" if reference else None, person.full_name)


async def _save(session: AsyncSession, task: ConversationTask) -> None:
    """The row after its Task; a first task made by someone else a moment ago is a
    conflict to retry (both wrote the same Task, so FHIR holds no double)."""
    session.add(task)
    try:
        await session.flush()
    except IntegrityError:
        raise ConflictError(
            "Someone changed this conversation's work at the same moment: try again."
        ) from None


def _refused(session: AsyncSession, view: ConversationView, reason: str) -> None:
    audit.record_refusal(
        session,
        AuditEntry(
            action="conversations.assign",
            outcome=audit.DENIED,
            reason=reason,
            actor_id=view.user.id,
            patient_id=view.conversation.patient_id,
            conversation_id=view.conversation.id,
        ),
    )
