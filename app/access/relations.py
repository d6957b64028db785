"""What each relation of the action table means in SQL, for each kind of target.

Every table a subquery reads is aliased: these conditions go into queries that join
the same tables (an inbox joins users for sender names), and SQLAlchemy would otherwise
correlate the subquery with the outer query's table instead of reading its own.

One meaning serves both uses: loading the facts of one target (a column per
relation), and filtering lists (the read rule compiled into a WHERE). So what
a list shows and what a single read allows cannot drift apart.
"""

import dataclasses
import functools
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Integer,
    String,
    and_,
    bindparam,
    exists,
    false,
    or_,
    select,
    true,
)
from sqlalchemy.orm import QueryableAttribute, aliased

from app.access.actions import FEATURE_SETS, RULES, Action, Relation
from app.access.policy import Actor, qualifies
from app.accounts.models import SystemPermission, User
from app.conversations.models import (
    Conversation,
    ConversationOrganisation,
    ConversationParticipant,
)
from app.db import UtcDateTime, utc_now
from app.directory.groups import GroupMember
from app.directory.organisations import (
    FeatureKey,
    Organisation,
    OrganisationFeature,
    PatientMembership,
    StaffMembership,
)
from app.directory.patients import AccessLevel, ExternalAccessGrant

PatientIdColumn = ColumnElement[str] | QueryableAttribute[str]
Conditions = dict[Relation, ColumnElement[bool]]
UserIdValue = BindParameter[int] | int


@dataclass(frozen=True)
class Who:
    """The caller as the SQL of relations sees them. Its values are bound parameters: for a
    list, bound to the caller's values; for the facts of one target, named placeholders, so
    one statement, built once per shape of caller, serves every request (building these
    expressions costs far more than running them)."""

    user_id: BindParameter[int]
    patient_id: BindParameter[str] | None  # a patient-level caller's own patient
    is_staff: bool
    now: BindParameter[datetime]

    @classmethod
    def of(cls, actor: Actor) -> "Who":
        return cls(
            user_id=bindparam(None, actor.user_id, type_=Integer),
            patient_id=bindparam(None, actor.patient_id, type_=String)
            if actor.patient_id
            else None,
            is_staff=actor.is_staff,
            now=bindparam(None, utc_now(), type_=UtcDateTime),
        )

    @classmethod
    def placeholders_for(cls, *, is_staff: bool, has_patient: bool) -> "Who":
        """Named parameters for callers of this shape; `values(actor)` fills them in."""
        return cls(
            user_id=bindparam("who_user_id", type_=Integer),
            patient_id=bindparam("who_patient_id", type_=String) if has_patient else None,
            is_staff=is_staff,
            now=bindparam("who_now", type_=UtcDateTime),
        )

    @staticmethod
    def shape(actor: Actor) -> tuple[bool, bool]:
        """What about a caller changes the SQL (and not only its parameters)."""
        return actor.is_staff, actor.patient_id is not None

    @staticmethod
    def values(actor: Actor) -> dict[str, object]:
        return {
            "who_user_id": actor.user_id,
            "who_patient_id": actor.patient_id,
            "who_now": utc_now(),
        }


def compile_rule(actor: Actor, action: Action, relations: Conditions) -> ColumnElement[bool]:
    """A WHERE that holds where the actor meets one of the action's grants (features aside)."""
    rule = RULES[action]
    options = [
        and_(true(), *(relations[relation] for relation in sorted(grant.relations)))
        for grant in rule.grants
        if qualifies(actor, grant)
    ]
    return or_(false(), *options)


def patient_relations(who: Who, patient_id: PatientIdColumn) -> Conditions:
    staff = who.is_staff
    return {
        Relation.SELF: patient_id == who.patient_id if who.patient_id is not None else false(),
        Relation.CARE: _shares_organisation(who.user_id, patient_id) if staff else false(),
        Relation.GRANT: _live_grant(who, patient_id) if staff else false(),
        Relation.GRANT_MESSAGE: _live_grant(who, patient_id, AccessLevel.MESSAGE)
        if staff
        else false(),
    }


def conversation_relations(who: Who) -> Conditions:
    """Relations to the row of `Conversation` the query is about."""
    return patient_relations(who, Conversation.patient_id) | {
        Relation.PARTICIPANT: takes_part(who.user_id),
        Relation.TEAM: _staff_of_conversation_organisation(who.user_id)
        if who.is_staff
        else false(),
        Relation.PATIENT_INCLUDED: _patient_takes_part(),
    }


def organisation_relations(
    who: Who, organisation_id: ColumnElement[int] | QueryableAttribute[int] = Organisation.id
) -> Conditions:
    """Relations to the organisation the query is about (by default its `Organisation` row;
    for a group, `Group.organisation_id`)."""
    staff, patients = aliased(StaffMembership), aliased(PatientMembership)
    as_staff = exists().where(
        staff.organisation_id == organisation_id, staff.user_id == who.user_id
    )
    member: ColumnElement[bool] = false()
    if who.is_staff:
        member = as_staff
    elif who.patient_id is not None:
        member = exists().where(
            patients.organisation_id == organisation_id, patients.patient_id == who.patient_id
        )
    return {Relation.MEMBER: member}


def user_relations(who: Who) -> Conditions:
    return {Relation.SELF: User.id == who.user_id}


FeatureConditions = dict[frozenset[FeatureKey], ColumnElement[bool]]


def patient_features(patient_id: PatientIdColumn) -> FeatureConditions:
    """Each feature set: on together in one of the patient's organisations."""
    membership = aliased(PatientMembership)
    return _features_of(membership.organisation_id, membership.patient_id == patient_id)


def conversation_features() -> FeatureConditions:
    """Each feature set: on together in one of the conversation's organisations."""
    joined = aliased(ConversationOrganisation)
    return _features_of(joined.organisation_id, joined.conversation_id == Conversation.id)


def _features_of(
    organisation_id: QueryableAttribute[int], belongs: ColumnElement[bool]
) -> FeatureConditions:
    """Every set the rules need, and every single feature (to tell what is off)."""
    wanted = FEATURE_SETS | {frozenset({key}) for key in FeatureKey}
    return {  # in a fixed order, so the SQL is the same in every process
        features: exists().where(
            belongs, *(_switched_on(organisation_id, key) for key in sorted(features))
        )
        for features in sorted(wanted, key=sorted)
    }


def _switched_on(organisation_id: QueryableAttribute[int], key: FeatureKey) -> ColumnElement[bool]:
    feature = aliased(OrganisationFeature)
    return exists().where(feature.organisation_id == organisation_id, feature.key == key.value)


def takes_part(user_id: UserIdValue) -> ColumnElement[bool]:
    """The user is a participant of `Conversation`: in person, or through a group."""
    participant, member = aliased(ConversationParticipant), aliased(GroupMember)
    return exists().where(
        participant.conversation_id == Conversation.id,
        or_(
            participant.user_id == user_id,
            participant.group_id.in_(select(member.group_id).where(member.user_id == user_id)),
        ),
    )


def _shares_organisation(user_id: UserIdValue, patient_id: PatientIdColumn) -> ColumnElement[bool]:
    patients, staff = aliased(PatientMembership), aliased(StaffMembership)
    return exists().where(
        patients.patient_id == patient_id,
        staff.organisation_id == patients.organisation_id,
        staff.user_id == user_id,
    )


def _live_grant(
    who: Who, patient_id: PatientIdColumn, level: AccessLevel | None = None
) -> ColumnElement[bool]:
    """A grant neither revoked nor expired (at `level`, when given)."""
    grant = aliased(ExternalAccessGrant)
    conditions = [
        grant.patient_id == patient_id,
        grant.user_id == who.user_id,
        grant.revoked_at.is_(None),
        or_(grant.expires_at.is_(None), grant.expires_at > who.now),
    ]
    if level is not None:
        conditions.append(grant.access_level == level)
    return exists().where(*conditions)


def _staff_of_conversation_organisation(user_id: UserIdValue) -> ColumnElement[bool]:
    joined, staff = aliased(ConversationOrganisation), aliased(StaffMembership)
    return exists().where(
        joined.conversation_id == Conversation.id,
        staff.organisation_id == joined.organisation_id,
        staff.user_id == user_id,
    )


def _patient_takes_part() -> ColumnElement[bool]:
    """The patient's own login takes part, however it came to (invited, or starting it)."""
    participant, login = aliased(ConversationParticipant), aliased(User)
    return exists().where(
        participant.conversation_id == Conversation.id,
        login.id == participant.user_id,
        login.fhir_patient_id == Conversation.patient_id,
        login.system_permissions == SystemPermission.PATIENT,
    )


class Found(StrEnum):
    """How a source finds a caller's conversations: what inbox views choose sources by."""

    IN_PERSON = "in-person"  # taking part
    THROUGH_GROUP = "through-group"  # one of their groups takes part
    ORGANISATION = "organisation"  # of an organisation they staff
    GRANT = "grant"  # about a patient they hold an external grant for


@dataclass(frozen=True)
class Source:
    """Rows that index, urgent first and then newest first, the conversations one relation
    can show a caller: `urgent` and `recency` are the conversation's, copied onto the row."""

    conversation_id: QueryableAttribute[int]
    recency: QueryableAttribute[datetime | None] | QueryableAttribute[datetime]
    condition: ColumnElement[bool]
    relation: Relation  # what being found here shows
    found: Found
    urgent: QueryableAttribute[bool] | ColumnElement[bool]
    # The part of the read rule a candidate must pass: the grants that need `relation`.
    # (A conversation readable through another grant is found in that grant's source.)
    rest: ColumnElement[bool] = field(default_factory=true)
    # The source's relation, checked on its own row: what `rest` checks in its stead
    # (the general check looks across every row of every conversation, and PostgreSQL
    # hashes them all for it, 30 ms a source over 100,000 conversations).
    own_check: ColumnElement[bool] | None = None


# Each grant of reading a conversation needs one of these, and each has its source below:
# the inbox reads candidates from the sources alone.
SOURCED = frozenset({Relation.PARTICIPANT, Relation.TEAM, Relation.GRANT})
if not all(SOURCED & set(grant.relations) for grant in RULES[Action.CONVERSATION_READ].grants):
    raise RuntimeError("a grant of conversation.read has no source of candidates for inboxes")


@dataclass(frozen=True)
class ListingShape:
    """What about a caller changes the SQL of their conversation list (the rest are
    parameters): which grants they qualify for, and how many groups and organisations
    they have, each a source of its own."""

    is_staff: bool
    has_patient: bool
    grants: tuple[int, ...]
    organisations: int
    groups: int


@dataclass(frozen=True)
class Listing:
    # Together these hold every conversation the caller may read.
    sources: tuple[Source, ...]

    def found(self, *ways: Found) -> tuple[Source, ...]:
        return tuple(source for source in self.sources if source.found in ways)


def listing_shape(actor: Actor, *, organisations: int, groups: int) -> ListingShape:
    grants = RULES[Action.CONVERSATION_READ].grants
    return ListingShape(
        is_staff=actor.is_staff,
        has_patient=actor.patient_id is not None,
        grants=tuple(n for n, grant in enumerate(grants) if qualifies(actor, grant)),
        organisations=organisations if actor.is_staff else 0,
        groups=groups,
    )


def listing_values(
    actor: Actor, *, organisation_ids: list[int], group_ids: list[int]
) -> dict[str, object]:
    values = Who.values(actor)
    values |= {f"listing_organisation_{n}": value for n, value in enumerate(organisation_ids)}
    values |= {f"listing_group_{n}": value for n, value in enumerate(group_ids)}
    return values


@functools.cache
def conversation_listing(shape: ListingShape) -> Listing:
    """The sources of a caller's conversation list, each with the rest of the read rule it
    must pass, built once per shape with their values as named parameters
    (`listing_values`)."""
    who = Who.placeholders_for(is_staff=shape.is_staff, has_patient=shape.has_patient)
    relations = conversation_relations(who)
    grants = [RULES[Action.CONVERSATION_READ].grants[n] for n in shape.grants]

    def rest(source: Source) -> ColumnElement[bool]:
        # The source's own relation is checked again here: the ids a source is built from
        # (organisations, groups) were read in another statement, and may have changed.
        relation = source.relation
        checks = relations
        if source.own_check is not None:
            checks = relations | {relation: source.own_check}
        passes = or_(
            false(),
            *(
                and_(true(), *(checks[each] for each in sorted(grant.relations)))
                for grant in grants
                if relation in grant.relations
            ),
        )
        # A check of each candidate as the source's index yields it, newest first, until a
        # page is full: left bare, PostgreSQL turns these EXISTS into joins over every
        # conversation of the source (a plan 50 times slower) whenever it underestimates
        # how many pass. `IS TRUE` (the same truth: EXISTS is never NULL) keeps them checks.
        return passes.is_(true())

    return Listing(
        tuple(dataclasses.replace(source, rest=rest(source)) for source in _sources(shape, who)),
    )


def _sources(shape: ListingShape, who: Who) -> list[Source]:
    """Where the conversations the caller may read can be found, one index range each:
    their own participation, each of their groups, each organisation they staff, the
    patients they hold grants for. Candidates still pass the rest of the read rule."""
    person = aliased(ConversationParticipant)
    sources = [
        Source(
            person.conversation_id,
            person.last_message_at,
            person.user_id == who.user_id,
            Relation.PARTICIPANT,
            Found.IN_PERSON,
            person.urgent,
            own_check=true(),  # the row is the caller's own participation
        )
    ]
    for n in range(shape.groups):
        team, member = aliased(ConversationParticipant), aliased(GroupMember)
        group_id = bindparam(f"listing_group_{n}", type_=Integer)
        sources.append(
            Source(
                team.conversation_id,
                team.last_message_at,
                team.group_id == group_id,
                Relation.PARTICIPANT,
                Found.THROUGH_GROUP,
                team.urgent,
                own_check=exists().where(
                    member.group_id == team.group_id, member.user_id == who.user_id
                ),
            )
        )
    if shape.is_staff:
        for n in range(shape.organisations):
            joined, staff = aliased(ConversationOrganisation), aliased(StaffMembership)
            organisation_id = bindparam(f"listing_organisation_{n}", type_=Integer)
            sources.append(
                Source(
                    joined.conversation_id,
                    joined.last_message_at,
                    joined.organisation_id == organisation_id,
                    Relation.TEAM,
                    Found.ORGANISATION,
                    joined.urgent,
                    own_check=exists().where(
                        staff.organisation_id == joined.organisation_id,
                        staff.user_id == who.user_id,
                    ),
                )
            )
        granted, grant = aliased(Conversation), aliased(ExternalAccessGrant)
        live = select(grant.patient_id).where(
            grant.user_id == who.user_id,
            grant.revoked_at.is_(None),
            or_(grant.expires_at.is_(None), grant.expires_at > who.now),
        )
        sources.append(
            Source(
                granted.id,
                granted.last_message_at,
                granted.patient_id.in_(live),
                Relation.GRANT,
                Found.GRANT,
                # Grants are few: no copy of their own to index.
                granted.priority == "urgent",
            )
        )
    return sources
