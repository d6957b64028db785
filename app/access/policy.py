"""The decision itself: pure, no I/O. The service loads the facts; this weighs them."""

from dataclasses import dataclass
from enum import Enum

from app.access.actions import RULES, Action, Grant, Relation, Target
from app.access.levels import at_least
from app.auth.models import SystemPermission


@dataclass(frozen=True)
class Actor:
    user_id: int
    level: SystemPermission
    competencies: frozenset[str]
    patient_id: str | None = None


@dataclass(frozen=True)
class Facts:
    """What is true between this actor and the target, as loaded from the database."""

    exists: bool = True
    relations: frozenset[Relation] = frozenset()


class Decision(Enum):
    ALLOW = "allow"
    FORBIDDEN = "forbidden"  # the caller may see the target, but not do this
    NOT_FOUND = "not-found"  # the caller may not even learn the target exists


def decide(actor: Actor, action: Action, facts: Facts) -> Decision:
    rule = RULES[action]
    if rule.target is not Target.NONE and not _may_see(actor, rule.target, facts):
        return Decision.NOT_FOUND
    if any(_meets(actor, grant, facts) for grant in rule.grants):
        return Decision.ALLOW
    return Decision.FORBIDDEN


def _may_see(actor: Actor, target: Target, facts: Facts) -> bool:
    if not facts.exists:
        return False
    if at_least(actor.level, SystemPermission.ADMIN):
        return True
    visible_through = {Relation.SELF, Relation.CARE, Relation.MEMBER}
    return bool(facts.relations & visible_through)


def _meets(actor: Actor, grant: Grant, facts: Facts) -> bool:
    if not at_least(actor.level, grant.level):
        return False
    if grant.competency is not None and grant.competency not in actor.competencies:
        return False
    return grant.relation is Relation.ANY or grant.relation in facts.relations
