"""What Parley owns in a thread header that other systems may also write.

The header is a shared record: another EHR may add a recipient of its own, a note, a
priority, an identifier. Parley rewrites only its own elements and carries everything
else over unchanged, so a close or a new participant never erases someone else's work.
"""

from typing import Any

from fhir.resources.R4B.communication import Communication

from app.fhir.resources import (
    CONVERSATION_SYSTEM,
    GROUP_SYSTEM,
    ORGANISATION_EXTENSION,
    STATUS_CHANGED_EXTENSION,
    USER_SYSTEM,
    ConversationHeader,
    build_conversation_header,
)

# Elements Parley sets whole on every write (the narrative describes Parley's header);
# absent from Parley's header, the stored value stays (Parley never clears an initiator).
_OWNED_WHOLE = ("status", "subject", "sender", "text", "priority")
_OWNED_EXTENSIONS = frozenset({ORGANISATION_EXTENSION, STATUS_CHANGED_EXTENSION})


def merged_header(current: Communication, header: ConversationHeader) -> Communication:
    """`current` (as the server holds it) with Parley's elements replaced by `header`'s."""
    ours = build_conversation_header(header).model_dump(mode="json", exclude_none=True)
    merged: dict[str, Any] = current.model_dump(mode="json", exclude_none=True)
    for name in _OWNED_WHOLE:
        if name in ours:
            merged[name] = ours[name]
    if "topic" in ours:  # the subject line is Parley's; codes another system added stay
        merged["topic"] = {**merged.get("topic", {}), "text": ours["topic"]["text"]}

    merged["identifier"] = [
        *ours["identifier"],
        *(
            item
            for item in merged.get("identifier", [])
            if item.get("system") != CONVERSATION_SYSTEM
        ),
    ]
    merged["recipient"] = [
        *ours.get("recipient", []),
        *(item for item in merged.get("recipient", []) if not _is_parley_party(item)),
    ]
    extensions = [
        *ours.get("extension", []),
        *(item for item in merged.get("extension", []) if item.get("url") not in _OWNED_EXTENSIONS),
    ]
    merged.pop("extension", None)
    if extensions:
        merged["extension"] = extensions
    merged["meta"] = _merged_meta(merged.get("meta", {}), ours["meta"])
    if not merged["recipient"]:
        del merged["recipient"]
    return Communication.model_validate(merged)


def _is_parley_party(reference: dict[str, Any]) -> bool:
    system = (reference.get("identifier") or {}).get("system")
    return system in (USER_SYSTEM, GROUP_SYSTEM)


def _merged_meta(theirs: dict[str, Any], ours: dict[str, Any]) -> dict[str, Any]:
    """Their tags, profiles and security labels stay; Parley's tag and profile are there
    once. The version and time are the server's to set."""
    meta = {key: value for key, value in theirs.items() if key not in ("versionId", "lastUpdated")}
    tags = list(meta.get("tag", []))
    for tag in ours.get("tag", []):
        if not any(_same_coding(tag, present) for present in tags):
            tags.append(tag)
    meta["tag"] = tags
    profiles = list(meta.get("profile", []))
    meta["profile"] = profiles + [item for item in ours.get("profile", []) if item not in profiles]
    return meta


def _same_coding(one: dict[str, Any], other: dict[str, Any]) -> bool:
    return (one.get("system"), one.get("code")) == (other.get("system"), other.get("code"))
