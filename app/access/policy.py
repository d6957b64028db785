"""The decision itself: pure, no I/O. The service loads the facts; this weighs them."""

from dataclasses import dataclass
from enum import Enum

from app.access.actions import (
    FEATURE_NAMES,
    RULES,
    SEEN_THROUGH,
    Action,
    Grant,
    Relation,
    Target,
)
from app.access.levels import at_least
from app.accounts.models import SystemPermission
from app.directory.organisations import FeatureKey


@dataclass(frozen=True)
class Actor:
    """The caller as access sees them. Built from the user row on every request, so a
    change of level, competencies or patient link holds from the next one."""

    user_id: int
    level: SystemPermission
    competencies: frozenset[str]
    patient_id: str | None = None  # only for a patient-level account: the patient it is

    @property
    def is_staff(self) -> bool:
        return at_least(self.level, SystemPermission.STAFF)

    @property
    def is_admin(self) -> bool:
        return at_least(self.level, SystemPermission.ADMIN)


@dataclass(frozen=True)
class Facts:
    """What is true between this actor and the target, as loaded from the database."""

    exists: bool = True
    relations: frozenset[Relation] = frozenset()
    # Each set of features (of FEATURE_SETS) switched on together in one of the target's
    # organisations; and each feature on in any of them, for telling what is off.
    feature_sets: frozenset[frozenset[FeatureKey]] = frozenset()
    features: frozenset[FeatureKey] = frozenset()
    about_self: bool = False  # the user the action changes is the caller
    patient_id: str | None = None  # the patient the target is about, for the audit log


class Outcome(Enum):
    ALLOW = "allowed"
    FORBIDDEN = "forbidden"  # the caller may see the target, but not do this
    NOT_FOUND = "not-found"  # the caller may not even learn the target exists
    FEATURE_OFF = "feature-disabled"  # allowed, were the feature on
    OWN_ACCESS = "own-access"  # nobody raises their own access


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    reason: str = ""

    @property
    def allowed(self) -> bool:
        return self.outcome is Outcome.ALLOW


def decide(actor: Actor, action: Action, facts: Facts) -> Decision:
    rule = RULES[action]
    if rule.target is not Target.NONE and not may_see(actor, rule.target, facts):
        return Decision(Outcome.NOT_FOUND, f"No such {rule.target.value}.")
    met = [each for each in rule.grants if meets(actor, each, facts)]
    if not met:
        return Decision(Outcome.FORBIDDEN, rule.refusal)
    if (rule.not_on_self and facts.about_self) or rule.own_when & facts.relations:
        return Decision(Outcome.OWN_ACCESS, "Another admin must change your own access.")
    needed = [rule.features | each.features for each in met]
    if any(not wanted or wanted in facts.feature_sets for wanted in needed):
        return Decision(Outcome.ALLOW)
    return Decision(Outcome.FEATURE_OFF, _features_off(min(needed, key=len), facts))


def _features_off(wanted: frozenset[FeatureKey], facts: Facts) -> str:
    off = wanted - facts.features
    if not off:  # each is on somewhere, but not all in one organisation
        names = " and ".join(sorted(FEATURE_NAMES[key] for key in wanted))
        return f"{names} are not switched on together for one organisation."
    names = " and ".join(sorted(FEATURE_NAMES[key] for key in off))
    verb = "is" if len(off) == 1 else "are"
    return f"{names} {verb} switched off for this organisation."


def may_see(actor: Actor, target: Target, facts: Facts) -> bool:
    if not facts.exists:
        return False
    seen_through = RULES[SEEN_THROUGH[target]]
    return any(meets(actor, each, facts) for each in seen_through.grants)


def meets(actor: Actor, grant: Grant, facts: Facts) -> bool:
    """The grant's level, competency and relations hold (features are weighed apart)."""
    return qualifies(actor, grant) and grant.relations <= facts.relations


def qualifies(actor: Actor, grant: Grant) -> bool:
    """The actor has the grant's level and competency, whatever their relations."""
    return at_least(actor.level, grant.level) and (
        grant.competency is None or grant.competency in actor.competencies
    )
