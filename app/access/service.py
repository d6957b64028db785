"""The one entry point for access decisions: `authorize(session, actor, action, target)`."""

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from app.access import repository
from app.access.actions import READ_RECORDS, RULES, Action, Relation, Target
from app.access.competencies import final_competencies
from app.access.levels import at_least
from app.access.policy import Actor, Decision, Facts, decide
from app.access.repository import PatientIdColumn
from app.auth.models import SystemPermission, User
from app.errors import ForbiddenError, NotFoundError
from app.ids import in_int32


def actor_of(user: User) -> Actor:
    return Actor(
        user_id=user.id,
        level=user.system_permissions,
        competencies=final_competencies(
            user.base_profession, user.additional_competencies, user.removed_competencies
        ),
        patient_id=user.fhir_patient_id,
    )


async def authorize(
    session: AsyncSession, actor: Actor, action: Action, target: str | int | None = None
) -> None:
    """Raise unless the actor may do this; NotFound when they may not even see the target."""
    decision = decide(actor, action, await _facts(session, actor, action, target))
    if decision is Decision.NOT_FOUND:
        raise NotFoundError(f"No such {RULES[action].target.value}.")
    if decision is Decision.FORBIDDEN:
        raise ForbiddenError(f"You may not {action.value.replace('.', ' ').replace('_', ' ')}.")


async def is_allowed(
    session: AsyncSession, actor: Actor, action: Action, target: str | int | None = None
) -> bool:
    return decide(actor, action, await _facts(session, actor, action, target)) is Decision.ALLOW


async def _facts(
    session: AsyncSession, actor: Actor, action: Action, target: str | int | None
) -> Facts:
    kind = RULES[action].target
    if kind is Target.NONE:
        return Facts()
    if target is None:
        return Facts(exists=False)
    if kind is Target.PATIENT:
        return await patient_facts(session, actor, str(target))
    return await _organisation_facts(session, actor, target)


async def patient_facts(session: AsyncSession, actor: Actor, patient_id: str) -> Facts:
    exists, _, cared_for = await repository.patient_relations(
        session, user_id=actor.user_id, patient_id=patient_id
    )
    relations = set()
    if actor.patient_id == patient_id:
        relations.add(Relation.SELF)
    if cared_for and actor.patient_id is None:
        relations.add(Relation.CARE)
    return Facts(exists=exists, relations=frozenset(relations))


async def _organisation_facts(session: AsyncSession, actor: Actor, target: str | int) -> Facts:
    try:
        organisation_id = int(target)
    except ValueError:
        return Facts(exists=False)
    if not in_int32(organisation_id):
        return Facts(exists=False)
    exists, member = await repository.organisation_relations(
        session,
        user_id=actor.user_id,
        own_patient_id=actor.patient_id,
        organisation_id=organisation_id,
    )
    return Facts(exists=exists, relations=frozenset({Relation.MEMBER} if member else set()))


def visible_patients(actor: Actor, patient_id_column: PatientIdColumn) -> ColumnElement[bool]:
    """A WHERE condition: the patients this actor may see (for lists)."""
    return repository.visible_patients(
        user_id=actor.user_id,
        is_admin=at_least(actor.level, SystemPermission.ADMIN),
        own_patient_id=actor.patient_id,
        patient_id_column=patient_id_column,
    )


def is_admin(actor: Actor) -> bool:
    return at_least(actor.level, SystemPermission.ADMIN)


def visible_conversations(actor: Actor) -> ColumnElement[bool]:
    """A WHERE condition on conversations: the ones this actor may read."""
    return repository.visible_conversations(
        user_id=actor.user_id,
        own_patient_id=actor.patient_id,
        reads_records=READ_RECORDS in actor.competencies,
    )
