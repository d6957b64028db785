"""Every action that needs permission, and what it needs: one table, read top to bottom.

An action is allowed when any one of its grants is met. A grant asks for a
minimum permission level, optionally a clinical competency, and optionally a
relation between the caller and the target (the patient or organisation).
"""

from dataclasses import dataclass
from enum import StrEnum

from app.auth.models import SystemPermission

PATIENT = SystemPermission.PATIENT
STAFF = SystemPermission.STAFF
ADMIN = SystemPermission.ADMIN


# Reading conversations about a patient is reading their record.
READ_RECORDS = "view_patient_record"
MESSAGE_PATIENTS = "message_patients"


class Action(StrEnum):
    ORGANISATION_CREATE = "organisation.create"
    ORGANISATION_READ = "organisation.read"
    ORGANISATION_UPDATE = "organisation.update"
    ORGANISATION_DELETE = "organisation.delete"
    ORGANISATION_MANAGE_MEMBERS = "organisation.manage_members"
    ORGANISATION_MANAGE_FEATURES = "organisation.manage_features"
    GROUP_READ = "group.read"
    GROUP_MANAGE = "group.manage"
    AUDIT_READ = "audit.read"
    PATIENT_CREATE = "patient.create"
    PATIENT_READ = "patient.read"
    PATIENT_MANAGE = "patient.manage"
    PATIENT_GRANT_ACCESS = "patient.grant_access"
    PATIENT_REVOKE_ACCESS = "patient.revoke_access"
    PATIENT_READ_MESSAGES = "patient.read_messages"
    PATIENT_MESSAGE = "patient.message"


class Target(StrEnum):
    NONE = "none"
    ORGANISATION = "organisation"
    PATIENT = "patient"


class Relation(StrEnum):
    ANY = "any"
    SELF = "self"  # the patient is the caller
    CARE = "care"  # staff of an organisation the patient belongs to, or an active grant
    MEMBER = "member"  # staff member of the organisation


@dataclass(frozen=True)
class Grant:
    level: SystemPermission
    competency: str | None = None
    relation: Relation = Relation.ANY


@dataclass(frozen=True)
class Rule:
    target: Target
    grants: tuple[Grant, ...]


RULES: dict[Action, Rule] = {
    Action.ORGANISATION_CREATE: Rule(Target.NONE, (Grant(ADMIN),)),
    Action.ORGANISATION_READ: Rule(
        Target.ORGANISATION, (Grant(ADMIN), Grant(PATIENT, relation=Relation.MEMBER))
    ),
    Action.ORGANISATION_UPDATE: Rule(Target.ORGANISATION, (Grant(ADMIN),)),
    Action.ORGANISATION_DELETE: Rule(Target.ORGANISATION, (Grant(ADMIN),)),
    Action.ORGANISATION_MANAGE_MEMBERS: Rule(Target.ORGANISATION, (Grant(ADMIN),)),
    Action.ORGANISATION_MANAGE_FEATURES: Rule(
        Target.ORGANISATION,
        (
            Grant(ADMIN),
            Grant(STAFF, "manage_organisation_features", Relation.MEMBER),
        ),
    ),
    Action.GROUP_READ: Rule(
        Target.ORGANISATION, (Grant(ADMIN), Grant(STAFF, relation=Relation.MEMBER))
    ),
    Action.GROUP_MANAGE: Rule(
        Target.ORGANISATION, (Grant(ADMIN), Grant(STAFF, "manage_groups", Relation.MEMBER))
    ),
    Action.AUDIT_READ: Rule(Target.NONE, (Grant(ADMIN),)),
    Action.PATIENT_CREATE: Rule(
        Target.ORGANISATION,
        (Grant(ADMIN), Grant(STAFF, "register_patients", Relation.MEMBER)),
    ),
    # Admins see patients to manage them; reading or writing messages needs care.
    Action.PATIENT_READ: Rule(
        Target.PATIENT,
        (
            Grant(ADMIN),
            Grant(STAFF, relation=Relation.CARE),
            Grant(PATIENT, relation=Relation.SELF),
        ),
    ),
    Action.PATIENT_MANAGE: Rule(Target.PATIENT, (Grant(ADMIN),)),
    Action.PATIENT_GRANT_ACCESS: Rule(
        Target.PATIENT, (Grant(ADMIN), Grant(PATIENT, relation=Relation.SELF))
    ),
    Action.PATIENT_REVOKE_ACCESS: Rule(Target.PATIENT, (Grant(ADMIN),)),
    Action.PATIENT_READ_MESSAGES: Rule(
        Target.PATIENT,
        (
            Grant(STAFF, READ_RECORDS, Relation.CARE),
            Grant(PATIENT, relation=Relation.SELF),
        ),
    ),
    Action.PATIENT_MESSAGE: Rule(
        Target.PATIENT,
        (
            Grant(STAFF, MESSAGE_PATIENTS, Relation.CARE),
            Grant(PATIENT, relation=Relation.SELF),
        ),
    ),
}
