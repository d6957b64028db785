"""A conversation's FHIR `Task`, written whole from its row and what is about to change:
by triage (assign, done) and by a patient's message that opens done work again."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import repository as users_repository
from app.conversations.models import Conversation, ConversationTask, TaskStatus
from app.db import utc_now
from app.fhir.protocol import FhirGateway
from app.fhir.tasks import ConversationWork, build_task
from app.groups import service as groups


@dataclass(frozen=True)
class Owner:
    """A Task's owner: `Practitioner/<id>` or `Group/<id>` (None until the person or team
    is in FHIR, when the name alone is written), and the name."""

    reference: str | None
    name: str


async def current_owner(session: AsyncSession, task: ConversationTask) -> Owner | None:
    if task.assignee_user_id is not None:
        person = await users_repository.get_user(session, task.assignee_user_id)
        if person is not None:
            reference = person.fhir_practitioner_id
            return Owner(f"Practitioner/{reference}" if reference else None, person.full_name)
    if task.assignee_group_id is not None:
        group = await groups.group_by_id(session, task.assignee_group_id)
        if group is not None:
            return Owner(f"Group/{group.fhir_id}" if group.fhir_id else None, group.name)
    return None


async def write_task(
    fhir: FhirGateway,
    conversation: Conversation,
    task: ConversationTask,
    *,
    owner: Owner | None,
    status: TaskStatus,
    note: str | None,
    now: datetime,
) -> None:
    """The whole Task as it is about to be, before its row changes (FHIR first)."""
    work = ConversationWork(
        fhir_id=task.fhir_id,
        header_fhir_id=conversation.fhir_id,
        patient_id=conversation.patient_id,
        owner=owner.reference if owner else None,
        owner_name=owner.name if owner else None,
        status=status.value,
        authored=task.created_at or now,
        changed=now,
        note=note,
    )
    await fhir.put(build_task(work))


@dataclass(frozen=True)
class DoneWork:
    """Done work a patient's message is about to open again, read before the send lets
    its transaction go (nothing holds a connection while FHIR is written)."""

    conversation: Conversation
    task: ConversationTask
    owner: Owner | None

    @classmethod
    async def of(cls, session: AsyncSession, conversation: Conversation) -> "DoneWork | None":
        task = await session.get(ConversationTask, conversation.id)
        if task is None or task.status is not TaskStatus.COMPLETED:
            return None
        return cls(conversation, task, await current_owner(session, task))

    async def reopen(self, fhir: FhirGateway) -> None:
        """The Task back to `requested`, written before the message: should the send then
        fail, FHIR errs toward work to do, and the retried send makes SQL agree."""
        await write_task(
            fhir, self.conversation, self.task,
            owner=self.owner, status=TaskStatus.REQUESTED, note=None, now=utc_now(),
        )  # fmt: skip
