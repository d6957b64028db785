"""Loading the facts of one target: whether it exists, every relation the caller has to it,
and the features its organisations switch on, in a single round trip."""

from typing import Any

from sqlalchemy import null, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.access import relations as sql
from app.access.actions import Relation
from app.access.policy import Actor, Facts
from app.auth.models import User
from app.messaging.models import Conversation, Group
from app.organisations.models import Organisation
from app.patients.models import PatientMetadata

NO_FEATURES: sql.FeatureConditions = {}


async def patient_facts(session: AsyncSession, actor: Actor, patient_id: str) -> Facts:
    column = PatientMetadata.patient_id
    facts, _ = await _facts(
        session,
        key=column,
        target=patient_id,
        patient=column,
        relations=sql.patient_relations(actor, column),
        features=sql.patient_features(column),
    )
    return facts


async def conversation_facts(session: AsyncSession, actor: Actor, conversation_id: int) -> Facts:
    facts, _ = await conversation_facts_and_row(session, actor, conversation_id)
    return facts


async def conversation_facts_and_row(
    session: AsyncSession, actor: Actor, conversation_id: int
) -> tuple[Facts, Conversation | None]:
    """The facts and the conversation's own row, in the same single round trip."""
    facts, row = await _facts(
        session,
        key=Conversation.id,
        target=conversation_id,
        patient=Conversation.patient_id,
        relations=sql.conversation_relations(actor),
        features=sql.conversation_features(),
        also=Conversation,
    )
    return facts, row


async def organisation_facts(session: AsyncSession, actor: Actor, organisation_id: int) -> Facts:
    facts, _ = await _facts(
        session,
        key=Organisation.id,
        target=organisation_id,
        patient=None,
        relations=sql.organisation_relations(actor),
        features=NO_FEATURES,
    )
    return facts


async def group_facts(session: AsyncSession, actor: Actor, group_id: int) -> Facts:
    facts, _ = await _facts(
        session,
        key=Group.id,
        target=group_id,
        patient=None,
        relations=sql.organisation_relations(actor, Group.organisation_id),
        features=NO_FEATURES,
    )
    return facts


async def user_facts(session: AsyncSession, actor: Actor, user_id: int) -> Facts:
    facts, _ = await _facts(
        session,
        key=User.id,
        target=user_id,
        patient=None,
        relations=sql.user_relations(actor),
        features=NO_FEATURES,
    )
    return facts


async def _facts(
    session: AsyncSession,
    *,
    key: Any,
    target: str | int,
    patient: Any,
    relations: sql.Conditions,
    features: sql.FeatureConditions,
    also: Any = None,
) -> tuple[Facts, Any]:
    """The facts, and `also` (a row or column of the target's table) when asked for."""
    named_relations = list(relations)
    named_features = list(features)
    statement = select(
        patient if patient is not None else null(),
        *(relations[name] for name in named_relations),
        *(features[name] for name in named_features),
        also if also is not None else null(),
    ).where(key == target)
    row = (await session.execute(statement)).first()
    if row is None:
        return Facts(exists=False, patient_id=target if isinstance(target, str) else None), None
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
