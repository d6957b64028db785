"""Every action that needs permission, and what it needs: one table, read top to bottom.

An action is allowed when any one of its grants is met. A grant asks for a
minimum permission level, optionally a clinical competency, every one of a set
of relations between the caller and the target, and features switched on for
the target's organisations. Whether the caller may see the target at all is the
rule of the target's read action (`SEEN_THROUGH`): a caller who may not see it
is told it does not exist.

Relations hold only for the level they belong to: care, grants, membership as
staff and the team hold for staff-level accounts; `self` for a patient-level
account that is that patient. So a level change binds everything at once.
"""

from dataclasses import dataclass, field
from enum import StrEnum

from app.accounts.models import SystemPermission
from app.directory.organisations import FeatureKey

PATIENT = SystemPermission.PATIENT
STAFF = SystemPermission.STAFF
ADMIN = SystemPermission.ADMIN

# Reading conversations about a patient is reading their record.
READ_RECORDS = "view_patient_record"
MESSAGE_PATIENTS = "message_patients"

MESSAGING = FeatureKey.MESSAGING
PATIENT_MESSAGING = FeatureKey.PATIENT_MESSAGING
ATTACHMENTS = FeatureKey.ATTACHMENTS


class Action(StrEnum):
    ADMINISTRATION_OPEN = "administration.open"
    AUDIT_READ = "audit.read"
    USER_CREATE = "user.create"
    USER_LIST = "user.list"
    USER_READ = "user.read"
    USER_MANAGE = "user.manage"
    USER_SET_ACCESS = "user.set_access"
    ORGANISATION_CREATE = "organisation.create"
    ORGANISATION_READ = "organisation.read"
    ORGANISATION_UPDATE = "organisation.update"
    ORGANISATION_DELETE = "organisation.delete"
    ORGANISATION_ADD_STAFF = "organisation.add_staff"
    ORGANISATION_ADD_PATIENT = "organisation.add_patient"
    ORGANISATION_MANAGE_MEMBERS = "organisation.manage_members"
    ORGANISATION_MANAGE_FEATURES = "organisation.manage_features"
    GROUP_CREATE = "group.create"
    GROUP_READ = "group.read"
    GROUP_MANAGE = "group.manage"
    GROUP_ADD_MEMBER = "group.add_member"
    PATIENT_CREATE = "patient.create"
    PATIENT_READ = "patient.read"
    PATIENT_MANAGE = "patient.manage"
    PATIENT_GRANT_ACCESS = "patient.grant_access"
    PATIENT_REVOKE_ACCESS = "patient.revoke_access"
    PATIENT_READ_MESSAGES = "patient.read_messages"
    PATIENT_MESSAGE = "patient.message"
    CONVERSATION_READ = "conversation.read"
    CONVERSATION_WRITE = "conversation.write"
    CONVERSATION_ATTACH = "conversation.attach"
    CONVERSATION_CHANGE_STATUS = "conversation.change_status"
    CONVERSATION_ADD_PARTICIPANT = "conversation.add_participant"
    CONVERSATION_JOIN = "conversation.join"


class Target(StrEnum):
    NONE = "none"
    USER = "user"
    ORGANISATION = "organisation"
    GROUP = "group"  # seen and managed through its organisation
    PATIENT = "patient"
    CONVERSATION = "conversation"


class Relation(StrEnum):
    SELF = "self"  # the caller is the target user, or the target's patient
    CARE = "care"  # staff of an organisation the patient belongs to
    GRANT = "grant"  # staff holding a live external access grant for the patient
    GRANT_MESSAGE = "grant_message"  # ... at the `message` level
    MEMBER = "member"  # staff of the organisation (a group's), or the patient the caller is
    PARTICIPANT = "participant"  # takes part in the conversation, in person or through a group
    TEAM = "team"  # staff of one of the conversation's organisations
    PATIENT_INCLUDED = "patient_included"  # the conversation's patient takes part in it


@dataclass(frozen=True)
class Grant:
    level: SystemPermission
    competency: str | None = None
    relations: frozenset[Relation] = frozenset()  # every one must hold
    features: frozenset[FeatureKey] = frozenset()  # on for the target's organisations


def grant(
    level: SystemPermission,
    competency: str | None = None,
    *relations: Relation,
    features: tuple[FeatureKey, ...] = (),
) -> Grant:
    return Grant(level, competency, frozenset(relations), frozenset(features))


@dataclass(frozen=True)
class Rule:
    target: Target
    grants: tuple[Grant, ...]
    refusal: str
    features: frozenset[FeatureKey] = field(default_factory=frozenset)  # every grant needs them
    # Raising one's own access takes a second person: the action is refused when the user it
    # is about is the caller, or when the caller holds one of `own_when` to the target.
    not_on_self: bool = False
    own_when: frozenset[Relation] = field(default_factory=frozenset)


# What a caller must be allowed in order to learn that a target exists.
SEEN_THROUGH = {
    Target.USER: Action.USER_READ,
    Target.ORGANISATION: Action.ORGANISATION_READ,
    Target.GROUP: Action.GROUP_READ,
    Target.PATIENT: Action.PATIENT_READ,
    Target.CONVERSATION: Action.CONVERSATION_READ,
}

R = Relation
NONE, USER, ORG, GROUP = Target.NONE, Target.USER, Target.ORGANISATION, Target.GROUP
PAT, CONV = Target.PATIENT, Target.CONVERSATION
ADMINS_ONLY = (grant(ADMIN),)
# Conversations: the care team through the patient's organisations, a participant with a
# grant, or the patient taking part. A grant reaches only what the patient could see.
WRITERS = (
    grant(STAFF, MESSAGE_PATIENTS, R.CARE, R.PARTICIPANT),
    grant(STAFF, MESSAGE_PATIENTS, R.GRANT_MESSAGE, R.PARTICIPANT),
    grant(PATIENT, None, R.SELF, R.PARTICIPANT, features=(PATIENT_MESSAGING,)),
)

RULES: dict[Action, Rule] = {
    Action.ADMINISTRATION_OPEN: Rule(NONE, ADMINS_ONLY, "Administration is for admins."),
    Action.AUDIT_READ: Rule(NONE, ADMINS_ONLY, "The audit log is for admins."),
    Action.USER_CREATE: Rule(NONE, ADMINS_ONLY, "Only admins create users."),
    Action.USER_LIST: Rule(NONE, ADMINS_ONLY, "Only admins list users."),
    Action.USER_READ: Rule(USER, (grant(ADMIN), grant(PATIENT, None, R.SELF)), "No such user."),
    Action.USER_MANAGE: Rule(USER, ADMINS_ONLY, "Only admins manage users."),
    Action.USER_SET_ACCESS: Rule(
        USER,
        ADMINS_ONLY,
        "Only admins change permission levels and competencies.",
        not_on_self=True,
    ),
    Action.ORGANISATION_CREATE: Rule(NONE, ADMINS_ONLY, "Only admins create organisations."),
    Action.ORGANISATION_READ: Rule(
        ORG, (grant(ADMIN), grant(PATIENT, None, R.MEMBER)), "No such organisation."
    ),
    Action.ORGANISATION_UPDATE: Rule(ORG, ADMINS_ONLY, "Only admins change organisations."),
    Action.ORGANISATION_DELETE: Rule(ORG, ADMINS_ONLY, "Only admins delete organisations."),
    Action.ORGANISATION_ADD_STAFF: Rule(
        ORG, ADMINS_ONLY, "Only admins add staff.", not_on_self=True
    ),
    # A patient added to an organisation is in the care of its staff: not by one of them.
    Action.ORGANISATION_ADD_PATIENT: Rule(
        ORG,
        ADMINS_ONLY,
        "Only admins add patients to an organisation.",
        own_when=frozenset({Relation.MEMBER}),
    ),
    Action.ORGANISATION_MANAGE_MEMBERS: Rule(
        ORG, ADMINS_ONLY, "Only admins manage an organisation's members."
    ),
    Action.ORGANISATION_MANAGE_FEATURES: Rule(
        ORG,
        (grant(ADMIN), grant(STAFF, "manage_organisation_features", R.MEMBER)),
        "You may not switch this organisation's features.",
    ),
    Action.GROUP_CREATE: Rule(
        ORG,
        (grant(ADMIN), grant(STAFF, "manage_groups", R.MEMBER)),
        "You may not manage this organisation's groups.",
    ),
    Action.GROUP_READ: Rule(GROUP, (grant(ADMIN), grant(STAFF, None, R.MEMBER)), "No such group."),
    Action.GROUP_MANAGE: Rule(
        GROUP,
        (grant(ADMIN), grant(STAFF, "manage_groups", R.MEMBER)),
        "You may not manage this organisation's groups.",
    ),
    Action.GROUP_ADD_MEMBER: Rule(
        GROUP,
        (grant(ADMIN), grant(STAFF, "manage_groups", R.MEMBER)),
        "You may not manage this organisation's groups.",
        not_on_self=True,
    ),
    Action.PATIENT_CREATE: Rule(
        ORG,
        (grant(ADMIN), grant(STAFF, "register_patients", R.MEMBER)),
        "You may not register patients here.",
    ),
    # Admins see patients to manage them; reading or writing messages needs care.
    Action.PATIENT_READ: Rule(
        PAT,
        (
            grant(ADMIN),
            grant(STAFF, None, R.CARE),
            grant(STAFF, None, R.GRANT),
            grant(PATIENT, None, R.SELF),
        ),
        "No such patient.",
    ),
    Action.PATIENT_MANAGE: Rule(PAT, ADMINS_ONLY, "Only admins manage patients."),
    Action.PATIENT_GRANT_ACCESS: Rule(
        PAT,
        (grant(ADMIN), grant(PATIENT, None, R.SELF)),
        "Only the patient, or an admin, grants access to their record.",
        not_on_self=True,
    ),
    Action.PATIENT_REVOKE_ACCESS: Rule(
        PAT,
        (grant(ADMIN), grant(PATIENT, None, R.SELF)),
        "Only the patient, or an admin, revokes access to their record.",
    ),
    Action.PATIENT_READ_MESSAGES: Rule(
        PAT,
        (
            grant(STAFF, READ_RECORDS, R.CARE),
            grant(STAFF, READ_RECORDS, R.GRANT),
            grant(PATIENT, None, R.SELF),
        ),
        "You may not read this patient's conversations.",
    ),
    Action.PATIENT_MESSAGE: Rule(
        PAT,
        (
            grant(STAFF, MESSAGE_PATIENTS, R.CARE),
            grant(STAFF, MESSAGE_PATIENTS, R.GRANT_MESSAGE),
            grant(PATIENT, None, R.SELF, features=(PATIENT_MESSAGING,)),
        ),
        "You may not start conversations about this patient.",
        features=frozenset({MESSAGING}),
    ),
    Action.CONVERSATION_READ: Rule(
        CONV,
        (
            grant(STAFF, READ_RECORDS, R.CARE, R.PARTICIPANT),
            grant(STAFF, READ_RECORDS, R.CARE, R.TEAM),
            grant(STAFF, READ_RECORDS, R.GRANT, R.PARTICIPANT),
            grant(STAFF, READ_RECORDS, R.GRANT, R.PATIENT_INCLUDED),
            grant(PATIENT, None, R.SELF, R.PARTICIPANT),
        ),
        "No such conversation.",
    ),
    Action.CONVERSATION_WRITE: Rule(
        CONV,
        WRITERS,
        "Only participants who may message patients write here; join or ask to be added.",
        features=frozenset({MESSAGING}),
    ),
    Action.CONVERSATION_ATTACH: Rule(
        CONV,
        WRITERS,
        "Only participants who may message patients send attachments here.",
        features=frozenset({MESSAGING, ATTACHMENTS}),
    ),
    Action.CONVERSATION_CHANGE_STATUS: Rule(
        CONV,
        (
            grant(STAFF, MESSAGE_PATIENTS, R.CARE, R.PARTICIPANT),
            grant(STAFF, MESSAGE_PATIENTS, R.CARE, R.TEAM),
            grant(STAFF, MESSAGE_PATIENTS, R.GRANT_MESSAGE, R.PARTICIPANT),
        ),
        "Only the care team, who may message patients, close or reopen conversations.",
        features=frozenset({MESSAGING}),
    ),
    Action.CONVERSATION_ADD_PARTICIPANT: Rule(
        CONV,
        (grant(STAFF, READ_RECORDS, R.CARE, R.PARTICIPANT),),
        "Only the care team taking part in the conversation add participants.",
        features=frozenset({MESSAGING}),
    ),
    Action.CONVERSATION_JOIN: Rule(
        CONV,
        (grant(STAFF, READ_RECORDS, R.CARE, R.TEAM),),
        "Only staff of the conversation's organisations join it.",
        features=frozenset({MESSAGING}),
    ),
}

# The sets of features an action may need on together, in one organisation.
FEATURE_SETS = frozenset(
    rule.features | each.features
    for rule in RULES.values()
    for each in rule.grants
    if rule.features | each.features
)

FEATURE_NAMES = {
    MESSAGING: "Messaging",
    PATIENT_MESSAGING: "Patient messaging",
    ATTACHMENTS: "Attachments",
}
