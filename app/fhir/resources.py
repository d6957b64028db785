"""Build and parse the FHIR resources Parley writes, with `fhir.resources` (R4B = R4 here).

Parley's identifier systems, tags, code systems, extensions and profiles have short
fixed names here (`urn:parley:…`); on a FHIR server they live under the deployment's
canonical base (`app/fhir/canonical.py` translates, `fhir/conformance/` defines them).

The mapping (see DESIGN.md): a conversation is a thread-header Communication
(no payload, no partOf); a message is a Communication `partOf` the header; an
amendment is a message `inResponseTo` its original, with a revision Provenance
beside it (and Parley's category `correction` and `amends` extension, which the
rebuild reads). Each carries a Parley identifier, which is also its idempotency
key, and a tag by which the reconciler finds everything Parley wrote. Messages
that other systems post into a Parley thread are read too (`parse_message`).
"""

import base64
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal
from uuid import UUID

from fhir.resources.R4B.communication import Communication
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.provenance import Provenance

from app.fhir.narrative import narrative
from app.fhir.protocol import SearchParams, Token

CONVERSATION_SYSTEM = "urn:parley:conversation"
MESSAGE_SYSTEM = "urn:parley:message"
PATIENT_SYSTEM = "urn:parley:patient"
USER_SYSTEM = "urn:parley:user"
GROUP_SYSTEM = "urn:parley:group"
TAG_SYSTEM = "urn:parley:tag"
CATEGORY_SYSTEM = "urn:parley:message-category"
AMENDS_EXTENSION = "urn:parley:extension:amends"
DURATION_EXTENSION = "urn:parley:extension:duration-ms"
ORGANISATION_EXTENSION = "urn:parley:extension:organisation"
ORGANISATION_SYSTEM = "urn:parley:organisation"
JOINED_EXTENSION = "urn:parley:extension:joined"
STATUS_CHANGED_EXTENSION = "urn:parley:extension:status-changed"
DATA_OPERATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-DataOperation"
PARTICIPANT_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
CONVERSATION_TAG = Token(TAG_SYSTEM, "conversation")
FOREIGN_ATTACHMENT_NOTE = "(Something else was sent with this message from another system.)"
# Keys the rows of messages other systems wrote (which carry no Parley identifier).
FOREIGN_MESSAGE_NAMESPACE = UUID("6f1d3a52-4c57-4d0e-9f7e-2b8f0c1a9e41")
MESSAGE_TAG = Token(TAG_SYSTEM, "message")
# The profiles (fhir/conformance/) each declares, so a validator checks it against them.
THREAD_HEADER_PROFILE = "urn:parley:profile:thread-header"
MESSAGE_PROFILE = "urn:parley:profile:message"


URGENT_PRIORITIES = frozenset({"urgent", "asap", "stat"})


@dataclass(frozen=True)
class Party:
    """A sender or recipient: a Parley user (a patient user also names their Patient) or a group."""

    kind: Literal["user", "group"]
    id: int
    patient_id: str | None = None
    display: str | None = None
    # The staff user's `Practitioner/<id>` or the group's `Group/<id>`, once published (a
    # patient's login is named by `patient_id`): the literal reference others follow.
    resource: str | None = None


@dataclass(frozen=True)
class ForeignParty:
    """A sender from another system: kept as it names itself (a reference, a display, or
    both), never mistaken for a Parley user."""

    reference: str | None
    display: str | None

    @property
    def resource_type(self) -> str | None:
        """`Practitioner` of `Practitioner/123` (or of an absolute URL ending so)."""
        parts = (self.reference or "").split("/_history/")[0].rstrip("/").split("/")
        return parts[-2] if len(parts) >= 2 and parts[-2][:1].isupper() else None


@dataclass(frozen=True)
class AttachmentRef:
    binary_id: str
    content_type: str
    size: int
    sha1_base64: str
    title: str | None = None
    duration_ms: int | None = None  # R4's Attachment has no duration: an extension carries it


@dataclass(frozen=True)
class ConversationHeader:
    uuid: UUID
    patient_id: str
    subject: str | None
    closed: bool
    recipients: tuple[Party, ...]
    initiator: Party | None = None
    # The organisations whose staff may find the conversation.
    organisation_ids: tuple[int, ...] = ()
    fhir_id: str | None = None
    # When each recipient ((kind, id) of its party) and each organisation joined, and when
    # the status last changed: what the projection needs to rebuild its rows exactly.
    joined: dict[tuple[str, int], datetime] = field(default_factory=dict)
    organisations_joined: dict[int, datetime] = field(default_factory=dict)
    status_changed: datetime | None = None
    # FHIR's code as written (routine, urgent, asap, stat), kept as it is: another
    # system's stat must not come back as urgent when Parley next writes the header.
    priority: str | None = None

    @property
    def urgent(self) -> bool:
        # asap and stat (other systems') are more than urgent: a care team sorts them first.
        return self.priority in URGENT_PRIORITIES


@dataclass(frozen=True)
class MessageRecord:
    uuid: UUID
    header_fhir_id: str
    patient_id: str
    sender: Party | ForeignParty
    sent: datetime
    text: str | None = None
    # Whom it is for: everyone else taking part when it was sent (other systems' are
    # kept in FHIR only).
    recipients: tuple[Party, ...] = ()
    attachment: AttachmentRef | None = None
    amends_fhir_id: str | None = None
    fhir_id: str | None = None
    # FHIR's request priority (routine, urgent, asap, stat); None: not given (routine).
    priority: str | None = None

    @property
    def urgent(self) -> bool:
        return self.priority in URGENT_PRIORITIES

    def sent_by(self, user_id: int) -> bool:
        sender = self.sender
        return isinstance(sender, Party) and sender.kind == "user" and sender.id == user_id


def conversation_identifier(conversation_uuid: UUID) -> Token:
    return Token(CONVERSATION_SYSTEM, str(conversation_uuid))


def message_identifier(message_uuid: UUID) -> Token:
    return Token(MESSAGE_SYSTEM, str(message_uuid))


def thread_search(header_fhir_id: str, *, page_size: int = 100) -> SearchParams:
    """Every message of a conversation, oldest first."""
    return [
        ("part-of", f"Communication/{header_fhir_id}"),
        ("_sort", "_lastUpdated"),
        ("_count", str(page_size)),
    ]


def patient_identifier(patient_uuid: UUID) -> Token:
    return Token(PATIENT_SYSTEM, str(patient_uuid))


@dataclass(frozen=True)
class PatientDetails:
    given_name: str
    family_name: str
    birth_date: date | None = None
    sex: str | None = None  # FHIR's administrative gender
    phone: str | None = None
    # Identifiers beside Parley's own: (system, value), the NHS number's among them.
    identifiers: tuple[tuple[str, str], ...] = ()


def build_patient(details: PatientDetails, *, patient_uuid: UUID | None = None) -> Patient:
    """A Patient under Parley's identifier (a fresh one unless given), which keys its
    conditional create: a create retried after a lost answer finds the first one instead of
    making a second patient."""
    identifiers = [patient_identifier(patient_uuid or uuid.uuid4())] + [
        Token(system, value) for system, value in details.identifiers
    ]
    document: dict[str, Any] = {
        "resourceType": "Patient",
        "identifier": [_identifier(token) for token in identifiers],
        "active": True,
        "name": [{"use": "official", "given": [details.given_name], "family": details.family_name}],
    }
    if details.birth_date is not None:
        document["birthDate"] = details.birth_date.isoformat()
    if details.sex is not None:
        document["gender"] = details.sex
    if details.phone is not None:
        document["telecom"] = [{"system": "phone", "value": details.phone}]
    document["text"] = narrative(
        f"{details.given_name} {details.family_name}",
        f"Born {details.birth_date.isoformat()}" if details.birth_date is not None else None,
    )
    return Patient.model_validate(document)


def build_conversation_header(header: ConversationHeader) -> Communication:
    document: dict[str, Any] = {
        "resourceType": "Communication",
        "meta": {"profile": [THREAD_HEADER_PROFILE], "tag": [_coding(CONVERSATION_TAG)]},
        "identifier": [_identifier(conversation_identifier(header.uuid))],
        "status": "completed" if header.closed else "in-progress",
        "subject": {"reference": f"Patient/{header.patient_id}"},
        "recipient": [_recipient(party, header.joined) for party in header.recipients],
        "text": narrative(
            ("An urgent " if header.urgent else "A ")
            + "Parley conversation about this patient"
            + (" (closed)." if header.closed else " (open)."),
            f"Subject: {header.subject}" if header.subject else None,
            "With " + ", ".join(_shown(party) for party in header.recipients) + "."
            if header.recipients
            else None,
        ),
    }
    if header.fhir_id is not None:
        document["id"] = header.fhir_id
    if header.priority is not None:
        document["priority"] = header.priority
    if header.initiator is not None:
        document["sender"] = _reference(header.initiator)
    if header.subject:
        document["topic"] = {"text": header.subject}
    extensions = [
        {
            "url": ORGANISATION_EXTENSION,
            "valueIdentifier": {"system": ORGANISATION_SYSTEM, "value": str(organisation_id)}
            | _joined_period(header.organisations_joined.get(organisation_id)),
        }
        for organisation_id in header.organisation_ids
    ]
    if header.status_changed is not None:
        extensions.append(
            {"url": STATUS_CHANGED_EXTENSION, "valueDateTime": header.status_changed.isoformat()}
        )
    if extensions:
        document["extension"] = extensions
    return Communication.model_validate(document)


def _recipient(party: Party, joined: dict[tuple[str, int], datetime]) -> dict[str, Any]:
    reference = _reference(party)
    if (moment := joined.get((party.kind, party.id))) is not None:
        reference["extension"] = [{"url": JOINED_EXTENSION, "valueDateTime": moment.isoformat()}]
    return reference


def _joined_period(moment: datetime | None) -> dict[str, Any]:
    return {"period": {"start": moment.isoformat()}} if moment is not None else {}


def build_message(message: MessageRecord) -> Communication:
    document: dict[str, Any] = {
        "resourceType": "Communication",
        "meta": {"profile": [MESSAGE_PROFILE], "tag": [_coding(MESSAGE_TAG)]},
        "identifier": [_identifier(message_identifier(message.uuid))],
        "partOf": [{"reference": f"Communication/{message.header_fhir_id}"}],
        "status": "completed",
        "subject": {"reference": f"Patient/{message.patient_id}"},
        "sender": _sender_reference(message.sender),
        "sent": message.sent.isoformat(),
        "payload": _payload(message),
        "text": narrative(
            f"{_shown(message.sender)}, {message.sent.isoformat(timespec='seconds')}"
            + (" (a correction of an earlier message)" if message.amends_fhir_id else "")
            + ":",
            message.text,
            _attachment_line(message.attachment),
        ),
    }
    if message.recipients:
        document["recipient"] = [_reference(party) for party in message.recipients]
    if message.priority is not None:
        document["priority"] = message.priority
    if message.amends_fhir_id is not None:
        # Standard: the original it answers; Parley's own category and extension stay for
        # Parley's rebuild. A Provenance (`build_revision`) marks the revision for searches.
        document["inResponseTo"] = [{"reference": f"Communication/{message.amends_fhir_id}"}]
        document["category"] = [{"coding": [{"system": CATEGORY_SYSTEM, "code": "correction"}]}]
        document["extension"] = [
            {
                "url": AMENDS_EXTENSION,
                "valueReference": {"reference": f"Communication/{message.amends_fhir_id}"},
            }
        ]
    return Communication.model_validate(document)


def build_revision(correction: MessageRecord) -> Provenance:
    """The standard mark of a correction: a Provenance whose target is the correction and
    whose entity is the original with the role `revision` (found from the original with
    `Provenance?entity=Communication/<id>`). Its id follows from the correction's, so
    writing it again changes nothing."""
    if correction.amends_fhir_id is None or correction.fhir_id is None:
        raise ValueError("a revision needs a stored correction of a stored original")
    return Provenance.model_validate(
        {
            "resourceType": "Provenance",
            "id": f"parley-revision-{correction.uuid.hex}",
            "target": [{"reference": f"Communication/{correction.fhir_id}"}],
            "recorded": correction.sent.isoformat(),
            "activity": {"coding": [{"system": DATA_OPERATION_SYSTEM, "code": "UPDATE"}]},
            "agent": [
                {
                    "type": {"coding": [{"system": PARTICIPANT_TYPE_SYSTEM, "code": "author"}]},
                    "who": _sender_reference(correction.sender),
                }
            ],
            "entity": [
                {
                    "role": "revision",
                    "what": {"reference": f"Communication/{correction.amends_fhir_id}"},
                }
            ],
            "text": narrative(f"{_shown(correction.sender)} corrected an earlier message."),
        }
    )


def _shown(party: Party | ForeignParty) -> str:
    return party.display or (
        "A team" if isinstance(party, Party) and party.kind == "group" else "Someone"
    )


def _attachment_line(attachment: AttachmentRef | None) -> str | None:
    if attachment is None:
        return None
    kind = "An image" if attachment.content_type.startswith("image/") else "A voice note"
    return f"{kind} is attached" + (f": {attachment.title}" if attachment.title else ".")


def _payload(message: MessageRecord) -> list[dict[str, Any]]:
    """The text, the attachment, or both (text first)."""
    payload: list[dict[str, Any]] = []
    if message.text is not None or message.attachment is None:
        payload.append({"contentString": message.text or ""})
    if message.attachment is not None:
        payload.append({"contentAttachment": _attachment_content(message.attachment)})
    return payload


def _attachment_content(attachment: AttachmentRef) -> dict[str, Any]:
    content: dict[str, Any] = {
        "contentType": attachment.content_type,
        "url": f"Binary/{attachment.binary_id}",
        "size": attachment.size,
        "hash": attachment.sha1_base64,
    }
    if attachment.title:
        content["title"] = attachment.title
    if attachment.duration_ms is not None:
        content["extension"] = [{"url": DURATION_EXTENSION, "valueInteger": attachment.duration_ms}]
    return content


def parse_conversation_header(communication: Communication) -> ConversationHeader:
    return ConversationHeader(
        uuid=UUID(_identifier_value(communication, CONVERSATION_SYSTEM)),
        patient_id=_referenced_id(communication.subject, "Patient"),
        subject=communication.topic.text if communication.topic else None,
        closed=communication.status == "completed",
        priority=communication.priority,
        # Recipients other systems added are theirs: kept in FHIR, not Parley participants.
        recipients=tuple(
            party
            for reference in communication.recipient or []
            if isinstance(party := _any_party(reference), Party)
        ),
        initiator=_parley_party_or_none(communication.sender),
        organisation_ids=_organisation_ids(communication),
        fhir_id=communication.id,
        joined=_joined(communication),
        organisations_joined=_organisations_joined(communication),
        status_changed=next(
            (
                extension.valueDateTime
                for extension in communication.extension or []
                if extension.url == STATUS_CHANGED_EXTENSION
            ),
            None,
        ),
    )


def _joined(communication: Communication) -> dict[tuple[str, int], datetime]:
    joined: dict[tuple[str, int], datetime] = {}
    for reference in communication.recipient or []:
        moment = next(
            (
                extension.valueDateTime
                for extension in reference.extension or []
                if extension.url == JOINED_EXTENSION
            ),
            None,
        )
        if moment is not None and isinstance(party := _any_party(reference), Party):
            joined[(party.kind, party.id)] = moment
    return joined


def _organisations_joined(communication: Communication) -> dict[int, datetime]:
    return {
        int(str(extension.valueIdentifier.value)): extension.valueIdentifier.period.start
        for extension in communication.extension or []
        if extension.url == ORGANISATION_EXTENSION
        and extension.valueIdentifier is not None
        and extension.valueIdentifier.period is not None
        and extension.valueIdentifier.period.start is not None
    }


def parse_message(communication: Communication) -> MessageRecord:
    """A message of a Parley thread, whoever wrote it.

    Parley's own carry its identifier and a Parley sender. Another system's are keyed by
    their resource id, keep their sender as they gave it, count as sent no later than the
    server stored them (a clock running fast must not move the thread's time), and show
    their text only: their attachments are not Parley's checked and cleaned files."""
    payload = communication.payload or []
    part_of = communication.partOf[0] if communication.partOf else None
    if communication.sender is None:
        raise ValueError("a message needs a sender")
    sender = _any_party(communication.sender)
    text = next((item.contentString for item in payload if item.contentString is not None), None)
    content = next((item.contentAttachment for item in payload if item.contentAttachment), None)
    sent = _moment(communication.sent)
    if isinstance(sender, ForeignParty):
        stored = _moment(communication.meta.lastUpdated if communication.meta else None)
        known = [moment for moment in (sent, stored, datetime.now(UTC)) if moment is not None]
        sent = min(known) if sent is not None or stored is not None else None
        if content is not None or text is None:
            text = (text + "\n\n" if text else "") + FOREIGN_ATTACHMENT_NOTE
        attachment = None
    else:
        attachment = _attachment(content)
    if sent is None:
        raise ValueError("a message needs the time it was sent")
    return MessageRecord(
        uuid=_message_uuid(communication),
        header_fhir_id=_referenced_id(part_of, "Communication"),
        patient_id=_referenced_id(communication.subject, "Patient"),
        sender=sender,
        recipients=tuple(
            party
            for reference in communication.recipient or []
            if isinstance(party := _any_party(reference), Party)
        ),
        sent=sent,
        text=text,
        attachment=attachment,
        amends_fhir_id=_amended_id(communication),
        fhir_id=communication.id,
        priority=communication.priority,
    )


def _moment(value: Any) -> datetime | None:
    """A point in time; a bare date or a month says too little to order a thread by."""
    return value if isinstance(value, datetime) and value.tzinfo is not None else None


def _message_uuid(communication: Communication) -> UUID:
    if any(identifier.system == MESSAGE_SYSTEM for identifier in communication.identifier or []):
        return UUID(_identifier_value(communication, MESSAGE_SYSTEM))
    if not communication.id:
        raise ValueError("a message from another system is known by its resource id")
    # Stable for the resource, so a rebuild finds the row it made before.
    return uuid.uuid5(FOREIGN_MESSAGE_NAMESPACE, f"Communication/{communication.id}")


def _organisation_ids(communication: Communication) -> tuple[int, ...]:
    return tuple(
        int(str(extension.valueIdentifier.value))
        for extension in communication.extension or []
        if extension.url == ORGANISATION_EXTENSION and extension.valueIdentifier is not None
    )


def _attachment(content: Any) -> AttachmentRef | None:
    if content is None:
        return None
    return AttachmentRef(
        binary_id=str(content.url).rsplit("/", 1)[-1],
        content_type=content.contentType,
        size=int(content.size),
        sha1_base64=_base64_text(content.hash),
        title=content.title,
        duration_ms=next(
            (
                int(extension.valueInteger)
                for extension in content.extension or []
                if extension.url == DURATION_EXTENSION and extension.valueInteger is not None
            ),
            None,
        ),
    )


def _base64_text(value: Any) -> str:
    # fhir.resources decodes base64Binary into bytes; the record keeps the text.
    return base64.b64encode(value).decode() if isinstance(value, bytes) else str(value)


def _amended_id(communication: Communication) -> str | None:
    for extension in communication.extension or []:
        if extension.url == AMENDS_EXTENSION and extension.valueReference is not None:
            return _referenced_id(extension.valueReference, "Communication")
    return None


def _coding(token: Token) -> dict[str, str]:
    return {"system": token.system, "code": token.value}


def _identifier(token: Token) -> dict[str, str]:
    return {"system": token.system, "value": token.value}


def _sender_reference(party: Party | ForeignParty) -> dict[str, Any]:
    if isinstance(party, Party):
        return _reference(party)
    given = {"reference": party.reference, "display": party.display}
    return {key: value for key, value in given.items() if value is not None}


def _reference(party: Party) -> dict[str, Any]:
    system = USER_SYSTEM if party.kind == "user" else GROUP_SYSTEM
    reference: dict[str, Any] = {"identifier": {"system": system, "value": str(party.id)}}
    if party.kind == "group":
        reference["type"] = "Group"
    if party.patient_id is not None:
        reference["reference"] = f"Patient/{party.patient_id}"
    elif party.resource is not None:
        reference["reference"] = party.resource
    if party.display:
        reference["display"] = party.display
    return reference


def _any_party(reference: Any) -> Party | ForeignParty:
    """Parley's own party when the reference carries Parley's identifier, else another
    system's, as it names itself."""
    identifier = getattr(reference, "identifier", None)
    foreign = ForeignParty(reference=reference.reference, display=reference.display)
    if identifier is None or identifier.system not in (USER_SYSTEM, GROUP_SYSTEM):
        return foreign
    try:
        return _party(reference)
    except (TypeError, ValueError):  # Parley's system with a value Parley never wrote
        return foreign


def _parley_party_or_none(reference: Any) -> Party | None:
    if reference is None:
        return None
    party = _any_party(reference)
    return party if isinstance(party, Party) else None


def _party(reference: Any) -> Party:
    identifier = reference.identifier
    kind: Literal["user", "group"] = "user" if identifier.system == USER_SYSTEM else "group"
    named = _PARTY_RESOURCE.search(reference.reference or "")
    resource_type = named.group("type") if named else None
    return Party(
        kind=kind,
        id=int(identifier.value),
        patient_id=named.group("id") if named and resource_type == "Patient" else None,
        display=reference.display,
        resource=f"{resource_type}/{named.group('id')}"
        if named and resource_type in _RESOURCE_OF[kind]
        else None,
    )


# A plain local reference to a party's resource, as Parley writes them (a version may
# follow). A reference to another server names someone Parley does not know.
_PARTY_RESOURCE = re.compile(
    r"^(?P<type>Patient|Practitioner|Group)/(?P<id>[A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?$"
)
_RESOURCE_OF = {"user": ("Practitioner",), "group": ("Group",)}


def _identifier_value(resource: Any, system: str) -> str:
    for identifier in resource.identifier or []:
        if identifier.system == system and identifier.value:
            return str(identifier.value)
    raise ValueError(f"the resource has no {system} identifier")


def _referenced_id(reference: Any, resource_type: str) -> str:
    text = getattr(reference, "reference", None) or ""
    prefix = f"{resource_type}/"
    # Servers may answer absolute or versioned references; the id is the part after Type/.
    if prefix not in text:
        raise ValueError(f"expected a reference to a {resource_type}")
    return text.split(prefix, 1)[1].split("/", 1)[0]
