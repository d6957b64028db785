"""The one entry point for access decisions: `authorize(session, actor, action, target)`.

Every service calls it before it touches what the action concerns; a refusal is
an error of its own kind and leaves an audit row that outlives the request.
"""

import dataclasses

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from app.access import relations, repository
from app.access.actions import READ_RECORDS, RULES, Action, Target
from app.access.competencies import final_competencies
from app.access.errors import FeatureDisabledError, OwnAccessError
from app.access.policy import Actor, Decision, Facts, Outcome, decide
from app.access.relations import PatientIdColumn
from app.accounts.models import SystemPermission, User
from app.audit import log as audit
from app.audit.log import DENIED, AuditEntry
from app.conversations.models import Conversation
from app.errors import ForbiddenError, NotFoundError
from app.ids import in_int32

TargetId = str | int | None


def actor_of(user: User) -> Actor:
    """A patient-level account holds no clinical competencies and acts only as its own
    patient; any other level never acts as a patient, whatever its row still names."""
    level = user.system_permissions
    is_patient_level = level is SystemPermission.PATIENT
    competencies = (
        frozenset()
        if is_patient_level
        else final_competencies(
            user.base_profession, user.additional_competencies, user.removed_competencies
        )
    )
    return Actor(
        user_id=user.id,
        level=level,
        competencies=competencies,
        patient_id=patient_acted_as(level, user.fhir_patient_id),
    )


def patient_acted_as(level: SystemPermission, fhir_patient_id: str | None) -> str | None:
    """The patient an account acts as: its own, for a patient-level account only."""
    return fhir_patient_id if level is SystemPermission.PATIENT else None


def may_hold_grant(user: User) -> bool:
    """External access goes to active staff who read records: never to patients, and never
    to admin accounts, whose reach is management, not care."""
    actor = actor_of(user)
    return (
        user.is_active
        and actor.level is SystemPermission.STAFF
        and READ_RECORDS in actor.competencies
    )


async def authorize(
    session: AsyncSession,
    actor: Actor,
    action: Action,
    target: TargetId = None,
    *,
    about_user: int | None = None,
) -> Facts:
    """The facts of the target if the actor may do this; otherwise a refusal, audited.

    `about_user` names the user an action changes, for the rules that nobody may apply to
    themself (raising one's own access)."""
    rule = RULES[action]
    if rule.not_on_self and about_user is None:
        raise TypeError(f"{action.value} must name the user it is about")
    facts = await load_facts(session, actor, action, target)
    if about_user is not None and about_user == actor.user_id:
        facts = dataclasses.replace(facts, about_self=True)
    _enforce(session, actor, action, target, facts)
    return facts


async def authorize_conversation(
    session: AsyncSession, actor: Actor, action: Action, conversation_id: int
) -> tuple[Facts, Conversation]:
    """`authorize` for an action on a conversation, answering its row as well: the facts
    and the row come in one round trip, which every send and page begins with."""
    if RULES[action].target is not Target.CONVERSATION:
        raise TypeError(f"{action.value} is not an action on a conversation")
    facts, row = (
        await repository.conversation_facts_and_row(session, actor, conversation_id)
        if in_int32(conversation_id)
        else (Facts(exists=False), None)
    )
    _enforce(session, actor, action, conversation_id, facts)
    assert row is not None, "an allowed conversation exists"
    return facts, row


def _enforce(
    session: AsyncSession, actor: Actor, action: Action, target: TargetId, facts: Facts
) -> None:
    decision = decide(actor, action, facts)
    if not decision.allowed:
        _audit_refusal(session, actor, action, target, facts, decision)
        raise _error_for(decision)


async def is_allowed(
    session: AsyncSession, actor: Actor, action: Action, target: TargetId = None
) -> bool:
    """A question, not an attempt: nothing is audited."""
    return decide(actor, action, await load_facts(session, actor, action, target)).allowed


def refused(
    session: AsyncSession,
    actor: Actor,
    action: Action,
    *,
    reason: str,
    outcome: Outcome = Outcome.FORBIDDEN,
    target: TargetId = None,
    patient_id: str | None = None,
) -> Exception:
    """The error for a refusal that a service's own data rule makes, within an action
    `authorize` allowed (a level above one's own, a feature off for the organisations
    chosen): audited like every other refusal. Raise what it returns."""
    decision = Decision(outcome, reason)
    _audit_refusal(session, actor, action, target, Facts(patient_id=patient_id), decision)
    return _error_for(decision)


def refusal(actor: Actor, action: Action, facts: Facts) -> Decision | None:
    """Why the actor may not do `action` to a target whose facts are already loaded (for
    showing what a page offers), or None when they may."""
    decision = decide(actor, action, facts)
    return None if decision.allowed else decision


async def load_facts(
    session: AsyncSession, actor: Actor, action: Action, target: TargetId
) -> Facts:
    kind = RULES[action].target
    if kind is Target.NONE:
        return Facts()
    if target is None:
        return Facts(exists=False)
    if kind is Target.PATIENT:
        return await repository.patient_facts(session, actor, str(target))
    number = _row_id(target)
    if number is None:
        return Facts(exists=False)
    if kind is Target.CONVERSATION:
        return await repository.conversation_facts(session, actor, number)
    if kind is Target.ORGANISATION:
        return await repository.organisation_facts(session, actor, number)
    if kind is Target.GROUP:
        return await repository.group_facts(session, actor, number)
    return await repository.user_facts(session, actor, number)


def _row_id(target: str | int) -> int | None:
    try:
        number = int(target)
    except ValueError:
        return None
    return number if in_int32(number) else None


def _error_for(decision: Decision) -> Exception:
    if decision.outcome is Outcome.NOT_FOUND:
        return NotFoundError(decision.reason)
    if decision.outcome is Outcome.FEATURE_OFF:
        return FeatureDisabledError(decision.reason)
    if decision.outcome is Outcome.OWN_ACCESS:
        return OwnAccessError(decision.reason)
    return ForbiddenError(decision.reason)


def _audit_refusal(
    session: AsyncSession,
    actor: Actor,
    action: Action,
    target: TargetId,
    facts: Facts,
    decision: Decision,
) -> None:
    kind = RULES[action].target
    conversation = _row_id(target) if kind is Target.CONVERSATION and target else None
    audit.record_refusal(
        session,
        AuditEntry(
            action=action.value,
            outcome=DENIED,
            reason=decision.outcome.value,
            actor_id=actor.user_id,
            patient_id=facts.patient_id,
            conversation_id=conversation if facts.exists else None,
            target_user_id=_row_id(target) if kind is Target.USER and target else None,
            details={"target": str(target)[:64]} if target is not None else {},
        ),
    )


def visible_patients(actor: Actor, patient_id: PatientIdColumn) -> ColumnElement[bool]:
    """A WHERE condition: the patients this actor may see (for lists)."""
    return relations.compile_rule(
        actor, Action.PATIENT_READ, relations.patient_relations(relations.Who.of(actor), patient_id)
    )


def visible_organisations(actor: Actor) -> ColumnElement[bool]:
    """A WHERE condition on organisations: the ones this actor may see."""
    return relations.compile_rule(
        actor, Action.ORGANISATION_READ, relations.organisation_relations(relations.Who.of(actor))
    )


def conversation_listing(
    actor: Actor, *, organisation_ids: list[int], group_ids: list[int]
) -> tuple[relations.ListingShape, dict[str, object]]:
    """A caller's conversation list as a shape (`relations.conversation_listing` builds
    its sources and read rule, once per shape) and the values of its parameters."""
    shape = relations.listing_shape(
        actor, organisations=len(organisation_ids), groups=len(group_ids)
    )
    values = relations.listing_values(actor, organisation_ids=organisation_ids, group_ids=group_ids)
    return shape, values


def visible_conversations(actor: Actor) -> ColumnElement[bool]:
    """A WHERE condition on conversations: the ones this actor may read."""
    return relations.compile_rule(
        actor, Action.CONVERSATION_READ, relations.conversation_relations(relations.Who.of(actor))
    )
