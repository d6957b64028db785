"""Loading the facts of one target: whether it exists, every relation the caller has to it,
and the features its organisations switch on, in a single round trip."""

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, bindparam, null, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.access import relations as sql
from app.access.actions import Relation
from app.access.policy import Actor, Facts
from app.accounts.models import User
from app.conversations.models import Conversation
from app.directory.groups import Group
from app.directory.organisations import FeatureKey, Organisation
from app.directory.patients import PatientMetadata

NO_FEATURES: sql.FeatureConditions = {}


@dataclass(frozen=True, eq=False)  # each is a constant: identity is its equality
class FactsQuery:
    """How to find one kind of target and say what the caller is to it."""

    kind: str
    key: Any  # the column the target's id is matched against
    patient: Any  # the target's patient column, if it has one
    relations: Callable[[sql.Who], sql.Conditions]
    features: Callable[[], sql.FeatureConditions] = lambda: NO_FEATURES
    also: Any = None  # a row or column answered beside the facts


PATIENT = FactsQuery(
    "patient",
    key=PatientMetadata.patient_id,
    patient=PatientMetadata.patient_id,
    relations=lambda who: sql.patient_relations(who, PatientMetadata.patient_id),
    features=lambda: sql.patient_features(PatientMetadata.patient_id),
)
CONVERSATION = FactsQuery(
    "conversation",
    key=Conversation.id,
    patient=Conversation.patient_id,
    relations=sql.conversation_relations,
    features=sql.conversation_features,
    also=Conversation,
)
ORGANISATION = FactsQuery(
    "organisation", key=Organisation.id, patient=None, relations=sql.organisation_relations
)
GROUP = FactsQuery(
    "group",
    key=Group.id,
    patient=None,
    relations=lambda who: sql.organisation_relations(who, Group.organisation_id),
)
USER = FactsQuery("user", key=User.id, patient=None, relations=sql.user_relations)


async def patient_facts(session: AsyncSession, actor: Actor, patient_id: str) -> Facts:
    facts, _ = await _facts(session, PATIENT, actor, patient_id)
    return facts


async def conversation_facts(session: AsyncSession, actor: Actor, conversation_id: int) -> Facts:
    facts, _ = await conversation_facts_and_row(session, actor, conversation_id)
    return facts


async def conversation_facts_and_row(
    session: AsyncSession, actor: Actor, conversation_id: int
) -> tuple[Facts, Conversation | None]:
    """The facts and the conversation's own row, in the same single round trip."""
    facts, row = await _facts(session, CONVERSATION, actor, conversation_id)
    return facts, row


async def organisation_facts(session: AsyncSession, actor: Actor, organisation_id: int) -> Facts:
    facts, _ = await _facts(session, ORGANISATION, actor, organisation_id)
    return facts


async def group_facts(session: AsyncSession, actor: Actor, group_id: int) -> Facts:
    facts, _ = await _facts(session, GROUP, actor, group_id)
    return facts


async def user_facts(session: AsyncSession, actor: Actor, user_id: int) -> Facts:
    facts, _ = await _facts(session, USER, actor, user_id)
    return facts


@dataclass(frozen=True)
class _Prepared:
    statement: Select[Any]
    relations: list[Relation]
    features: list[frozenset[FeatureKey]]


@functools.cache
def _prepared(query: FactsQuery, shape: tuple[bool, bool]) -> _Prepared:
    """The statement for a kind of target and a shape of caller, built once: its caller
    and target are parameters."""
    is_staff, has_patient = shape
    who = sql.Who.placeholders_for(is_staff=is_staff, has_patient=has_patient)
    relations = query.relations(who)
    features = query.features()
    named_relations, named_features = list(relations), list(features)
    statement = select(
        query.patient if query.patient is not None else null(),
        *(relations[name] for name in named_relations),
        *(features[name] for name in named_features),
        query.also if query.also is not None else null(),
    ).where(query.key == bindparam("target"))
    return _Prepared(statement, named_relations, named_features)


async def _facts(
    session: AsyncSession, query: FactsQuery, actor: Actor, target: str | int
) -> tuple[Facts, Any]:
    """The facts, and the query's `also` when it asks for one, in one round trip."""
    prepared = _prepared(query, sql.Who.shape(actor))
    row = (
        await session.execute(prepared.statement, {"target": target, **sql.Who.values(actor)})
    ).first()
    if row is None:
        return Facts(exists=False, patient_id=target if isinstance(target, str) else None), None
    named_relations, named_features = prepared.relations, prepared.features
    held = row[1 : 1 + len(named_relations)]
    switched = row[1 + len(named_relations) : -1]
    return Facts(
        exists=True,
        relations=frozenset(
            Relation(name) for name, value in zip(named_relations, held, strict=True) if value
        ),
        feature_sets=frozenset(
            name for name, value in zip(named_features, switched, strict=True) if value
        ),
        features=frozenset(
            key
            for name, value in zip(named_features, switched, strict=True)
            if value and len(name) == 1
            for key in name
        ),
        patient_id=row[0],
    ), row[-1]
