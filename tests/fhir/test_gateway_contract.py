"""One contract for both gateways: what Parley relies on from any FHIR server."""

import asyncio
import os
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from fhir.resources.R4B.binary import Binary
from fhir.resources.R4B.communication import Communication
from fhir.resources.R4B.patient import Patient

from app.fhir.errors import FhirConflictError, FhirInvalidError, FhirNotFoundError
from app.fhir.protocol import BinaryContent, FhirGateway
from app.fhir.resources import (
    MESSAGE_TAG,
    AttachmentRef,
    ConversationHeader,
    MessageRecord,
    Party,
    PatientDetails,
    build_conversation_header,
    build_message,
    build_patient,
    message_identifier,
    parse_conversation_header,
    parse_message,
    thread_search,
)

CLINICIAN = Party(kind="user", id=7, display="Dr Ada Example")


async def create_patient(fhir: FhirGateway) -> str:
    patient = await fhir.create(
        build_patient(PatientDetails(given_name="Pat", family_name="Example"))
    )
    assert patient.id is not None
    return str(patient.id)


async def create_header(fhir: FhirGateway, patient_id: str) -> str:
    header = ConversationHeader(
        uuid=uuid4(),
        patient_id=patient_id,
        subject="Results",
        closed=False,
        recipients=(CLINICIAN,),
    )
    created = await fhir.create(build_conversation_header(header))
    return str(created.id)


def message(header_id: str, patient_id: str, text: str | None, **changes: object) -> MessageRecord:
    fields: dict[str, object] = {
        "uuid": uuid4(),
        "header_fhir_id": header_id,
        "patient_id": patient_id,
        "sender": CLINICIAN,
        "sent": datetime.now(UTC).replace(microsecond=0),
        "text": text,
    } | changes
    return MessageRecord(**fields)  # type: ignore[arg-type]


async def test_create_answers_id_version_and_last_updated(fhir_gateway: FhirGateway) -> None:
    patient = await fhir_gateway.create(
        build_patient(PatientDetails(given_name="Ann", family_name="Lee"))
    )

    assert patient.id
    assert patient.meta is not None
    assert patient.meta.versionId == "1"
    assert patient.meta.lastUpdated is not None
    assert abs(patient.meta.lastUpdated - datetime.now(UTC)) < timedelta(minutes=5)


async def test_read_answers_what_was_created(fhir_gateway: FhirGateway) -> None:
    created = await fhir_gateway.create(
        build_patient(PatientDetails(given_name="Ann", family_name="Lee"))
    )

    read = await fhir_gateway.read(Patient, str(created.id))

    assert read.id == created.id
    assert read.name is not None
    assert read.name[0].family == "Lee"
    assert read.name[0].given == ["Ann"]


async def test_reading_a_missing_id_is_a_typed_not_found(fhir_gateway: FhirGateway) -> None:
    with pytest.raises(FhirNotFoundError):
        await fhir_gateway.read(Patient, f"missing-{uuid4().hex[:12]}")


async def test_conditional_create_with_the_same_identifier_answers_the_same_resource(
    fhir_gateway: FhirGateway,
) -> None:
    patient_id = await create_patient(fhir_gateway)
    header_id = await create_header(fhir_gateway, patient_id)
    record = message(header_id, patient_id, "hello")
    identifier = message_identifier(record.uuid)

    first = await fhir_gateway.create_if_none_exist(build_message(record), identifier=identifier)
    second = await fhir_gateway.create_if_none_exist(build_message(record), identifier=identifier)

    assert first.created is True
    assert second.created is False
    assert second.resource.id == first.resource.id
    assert second.resource.meta is not None
    assert second.resource.meta.versionId == "1"


async def test_twenty_concurrent_conditional_creates_make_exactly_one(
    fhir_gateway: FhirGateway,
) -> None:
    patient_id = await create_patient(fhir_gateway)
    header_id = await create_header(fhir_gateway, patient_id)
    record = message(header_id, patient_id, "only once")
    identifier = message_identifier(record.uuid)

    outcomes = await asyncio.gather(
        *(
            fhir_gateway.create_if_none_exist(build_message(record), identifier=identifier)
            for _ in range(20)
        )
    )

    assert len({outcome.resource.id for outcome in outcomes}) == 1
    assert sum(outcome.created for outcome in outcomes) == 1
    found = [
        resource
        async for resource in fhir_gateway.search(Communication, [("identifier", str(identifier))])
    ]
    assert [resource.id for resource in found] == [outcomes[0].resource.id]


async def test_update_with_the_current_version_makes_the_next_version(
    fhir_gateway: FhirGateway,
) -> None:
    patient = await fhir_gateway.create(
        build_patient(PatientDetails(given_name="Ann", family_name="Lee"))
    )
    patient.active = False

    updated = await fhir_gateway.update(patient, if_match="1")

    assert updated.meta is not None
    assert updated.meta.versionId == "2"
    assert (await fhir_gateway.read(Patient, str(patient.id))).active is False


async def test_a_stale_if_match_is_a_conflict(fhir_gateway: FhirGateway) -> None:
    patient = await fhir_gateway.create(
        build_patient(PatientDetails(given_name="Ann", family_name="Lee"))
    )
    patient.active = False
    await fhir_gateway.update(patient, if_match="1")
    patient.gender = "female"

    with pytest.raises(FhirConflictError):
        await fhir_gateway.update(patient, if_match="1")
    assert (await fhir_gateway.read(Patient, str(patient.id))).meta.versionId == "2"  # type: ignore[union-attr]


async def test_an_update_that_changes_nothing_makes_no_new_version(
    fhir_gateway: FhirGateway,
) -> None:
    patient = await fhir_gateway.create(
        build_patient(PatientDetails(given_name="Ann", family_name="Lee"))
    )

    unchanged = await fhir_gateway.update(patient, if_match="1")

    assert unchanged.meta is not None
    assert unchanged.meta.versionId == "1"
    assert len(await fhir_gateway.history(Patient, str(patient.id))) == 1


async def test_history_lists_every_version_newest_first(fhir_gateway: FhirGateway) -> None:
    patient = await fhir_gateway.create(
        build_patient(PatientDetails(given_name="Ann", family_name="Lee"))
    )
    patient.active = False
    await fhir_gateway.update(patient, if_match="1")

    versions = await fhir_gateway.history(Patient, str(patient.id))

    assert [version.meta.versionId for version in versions] == ["2", "1"]  # type: ignore[union-attr]
    assert [version.active for version in versions] == [False, True]


async def test_part_of_search_returns_the_thread_in_order_across_pages(
    fhir_gateway: FhirGateway,
) -> None:
    patient_id = await create_patient(fhir_gateway)
    header_id = await create_header(fhir_gateway, patient_id)
    other_header_id = await create_header(fhir_gateway, patient_id)
    created_ids = []
    for number in range(7):
        created = await fhir_gateway.create(
            build_message(message(header_id, patient_id, f"m{number}"))
        )
        created_ids.append(created.id)
    await fhir_gateway.create(build_message(message(other_header_id, patient_id, "elsewhere")))

    thread = [
        resource
        async for resource in fhir_gateway.search(
            Communication, thread_search(header_id, page_size=3)
        )
    ]

    assert [resource.id for resource in thread] == created_ids
    assert [parse_message(resource).text for resource in thread] == [f"m{n}" for n in range(7)]


async def test_tag_and_last_updated_search_finds_recent_messages_only(
    fhir_gateway: FhirGateway,
) -> None:
    patient_id = await create_patient(fhir_gateway)
    header_id = await create_header(fhir_gateway, patient_id)
    before = await fhir_gateway.create(build_message(message(header_id, patient_id, "before")))
    await asyncio.sleep(1.1)  # _lastUpdated has second precision on some servers
    since = datetime.now(UTC)
    after = await fhir_gateway.create(build_message(message(header_id, patient_id, "after")))

    found = [
        resource.id
        async for resource in fhir_gateway.search(
            Communication,
            [
                ("_tag", str(MESSAGE_TAG)),
                ("part-of", f"Communication/{header_id}"),
                ("_lastUpdated", f"ge{since.isoformat(timespec='seconds')}"),
            ],
        )
    ]

    assert after.id in found
    assert before.id not in found


async def test_binary_round_trips_bytes_exactly(fhir_gateway: FhirGateway) -> None:
    data = os.urandom(64 * 1024) + b"\x00\xff\x00"

    binary_id = f"parley-{uuid4().hex}"
    await fhir_gateway.put_binary(binary_id, BinaryContent("audio/ogg", data))
    read = await fhir_gateway.read_binary(binary_id)

    assert read.content_type == "audio/ogg"
    assert read.data == data


async def test_a_reference_to_a_missing_resource_is_refused(fhir_gateway: FhirGateway) -> None:
    header = ConversationHeader(
        uuid=uuid4(), patient_id=f"missing{uuid4().hex[:10]}", subject=None, closed=False,
        recipients=(CLINICIAN,),
    )  # fmt: skip

    with pytest.raises(FhirInvalidError):
        await fhir_gateway.create(build_conversation_header(header))


async def test_conversation_header_round_trips_through_the_server(
    fhir_gateway: FhirGateway,
) -> None:
    patient_id = await create_patient(fhir_gateway)
    header = ConversationHeader(
        uuid=uuid4(),
        patient_id=patient_id,
        subject="Blood results",
        closed=False,
        recipients=(CLINICIAN, Party(kind="user", id=9, patient_id=patient_id), Party("group", 3)),
        initiator=CLINICIAN,
        organisation_ids=(4, 11),
    )

    created = await fhir_gateway.create(build_conversation_header(header))
    parsed = parse_conversation_header(await fhir_gateway.read(Communication, str(created.id)))

    assert parsed == ConversationHeader(**(header.__dict__ | {"fhir_id": created.id}))


async def test_amendment_and_attachment_messages_round_trip_through_the_server(
    fhir_gateway: FhirGateway,
) -> None:
    patient_id = await create_patient(fhir_gateway)
    header_id = await create_header(fhir_gateway, patient_id)
    original = await fhir_gateway.create(build_message(message(header_id, patient_id, "5 mg")))
    binary_id = f"parley-{uuid4().hex}"
    await fhir_gateway.put_binary(binary_id, BinaryContent("audio/ogg", b"OggS-voice"))
    attachment = AttachmentRef(
        binary_id=binary_id, content_type="audio/ogg", size=10,
        sha1_base64="2jmj7l5rSw0yVb/vlWAYkK/YBwk=", title="voice-note.ogg", duration_ms=4250,
    )  # fmt: skip
    amendment = message(header_id, patient_id, "50 mg, not 5 mg", amends_fhir_id=original.id)
    voice = message(header_id, patient_id, None, attachment=attachment)

    for record in (amendment, voice):
        created = await fhir_gateway.create(build_message(record))
        parsed = parse_message(await fhir_gateway.read(Communication, str(created.id)))
        assert parsed == MessageRecord(**(record.__dict__ | {"fhir_id": created.id}))
    assert (await fhir_gateway.read(Communication, str(original.id))).meta.versionId == "1"  # type: ignore[union-attr]


async def test_a_binary_put_under_our_own_id_is_safe_to_repeat(fhir_gateway: FhirGateway) -> None:
    binary_id = f"parley-{uuid4().hex}"
    data = os.urandom(4096)

    await fhir_gateway.put_binary(binary_id, BinaryContent("image/png", data))
    await fhir_gateway.put_binary(binary_id, BinaryContent("image/png", data))

    assert (await fhir_gateway.read_binary(binary_id)).data == data
    assert len(await fhir_gateway.history(Binary, binary_id)) == 1


async def test_a_message_with_text_and_attachment_round_trips(fhir_gateway: FhirGateway) -> None:
    patient_id = await create_patient(fhir_gateway)
    header_id = await create_header(fhir_gateway, patient_id)
    attachment = AttachmentRef(
        binary_id="parley-x",
        content_type="image/png",
        size=3,
        sha1_base64="qZk+NkcGgWq6PiVxeFDCbJzQ2J0=",
        title="scan.png",
    )
    record = message(header_id, patient_id, "See the scan", attachment=attachment)

    created = await fhir_gateway.create(build_message(record))

    parsed = parse_message(await fhir_gateway.read(Communication, str(created.id)))
    assert parsed == MessageRecord(**(record.__dict__ | {"fhir_id": created.id}))
