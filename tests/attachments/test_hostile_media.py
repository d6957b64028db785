"""Hostile media: bombs refused from their headers, animations kept as one still, every kind
of metadata gone from images and voice notes, and a time limit that ends slow work."""

import io

import av
import httpx
import pytest
from fastapi import FastAPI
from PIL import Image

from app.config import Settings
from app.main import create_app
from tests.support.app import running_client
from tests.support.auth import Account, create_superadmin, login
from tests.support.conversations import Thread
from tests.support.media import (
    SECRET,
    animated_gif,
    image_with_metadata,
    png,
    png_claiming,
    tagged_audio,
    wav_with_tags,
)
from tests.support.world import World, build_world, call, ok


async def upload(
    client: httpx.AsyncClient, thread: Thread, sender: Account, data: bytes, filename: str
) -> httpx.Response:
    files = {"file": (filename, data, "application/octet-stream")}
    return await call(client, "POST", f"{thread.url}/messages", sender, files=files)


async def stored(client: httpx.AsyncClient, thread: Thread, message: dict[str, object]) -> bytes:
    url = f"/api/v1/attachments/{message['id']}"
    return (await call(client, "GET", url, thread.world.clinician_a)).content


@pytest.mark.parametrize(
    ("width", "height"), [(10_000, 8_000), (5_000, 5_000), (100_000, 300), (65_535, 65_535)]
)
async def test_an_image_of_too_many_pixels_is_refused_from_its_header(
    client: httpx.AsyncClient, thread: Thread, width: int, height: int
) -> None:
    bomb = png_claiming(width, height)

    response = await upload(client, thread, thread.world.patient_1_user, bomb, "bomb.png")
    page = await ok(await call(client, "GET", f"{thread.url}/messages", thread.world.clinician_a))

    assert len(bomb) < 200
    assert response.status_code == 422
    assert "megapixels" in response.json()["detail"]
    assert all(item["attachment"] is None for item in page["items"])


async def test_an_animation_is_kept_as_its_first_frame(
    client: httpx.AsyncClient, thread: Thread
) -> None:
    sent = await ok(
        await upload(client, thread, thread.world.patient_1_user, animated_gif(), "a.gif")
    )
    data = await stored(client, thread, sent)

    with Image.open(io.BytesIO(data)) as image:
        frames = getattr(image, "n_frames", 1)
        kind = image.format

    assert sent["attachment"]["content_type"] == "image/png"
    assert (kind, frames) == ("PNG", 1)
    assert SECRET.encode() not in data


@pytest.mark.parametrize("format_name", ["JPEG", "PNG", "WEBP", "GIF"])
async def test_no_metadata_of_any_kind_survives_in_an_image(
    client: httpx.AsyncClient, thread: Thread, format_name: str
) -> None:
    original = image_with_metadata(format_name)
    sent = await ok(
        await upload(client, thread, thread.world.patient_1_user, original, "photo.img")
    )
    data = await stored(client, thread, sent)

    with Image.open(io.BytesIO(data)) as image:
        info = set(image.info) & {"exif", "icc_profile", "comment", "xmp", "Comment", "dpi"}
        exif = dict(image.getexif())
        size = image.size

    assert SECRET.encode() in original
    assert SECRET.encode() not in data
    assert b"51.5072" not in data
    assert info == set()
    assert exif == {}
    assert size == (40, 30)


@pytest.mark.parametrize(
    ("container", "codec", "filename"),
    [
        ("ogg", "libopus", "note.ogg"),
        ("webm", "libopus", "note.webm"),
        ("mp4", "aac", "note.m4a"),
        ("mp3", "libmp3lame", "note.mp3"),
    ],
)
async def test_no_tags_survive_in_a_voice_note_and_its_sound_does(
    client: httpx.AsyncClient, thread: Thread, container: str, codec: str, filename: str
) -> None:
    original = tagged_audio(container, codec)
    sent = await ok(await upload(client, thread, thread.world.patient_1_user, original, filename))
    data = await stored(client, thread, sent)

    with av.open(io.BytesIO(data), "r") as kept:
        tags = dict(kept.metadata) | dict(kept.streams.audio[0].metadata)
        samples = sum(int(frame.samples) for frame in kept.decode(audio=0))

    assert SECRET.encode() in original
    assert SECRET.encode() not in data
    assert SECRET not in str(tags)
    assert samples >= 47_000  # one second at 48 kHz, give or take a codec's padding
    assert 950 <= sent["attachment"]["duration_ms"] <= 1_100


async def test_a_wav_voice_note_loses_its_info_chunk(
    client: httpx.AsyncClient, thread: Thread
) -> None:
    sent = await ok(
        await upload(client, thread, thread.world.patient_1_user, wav_with_tags(), "a.wav")
    )

    data = await stored(client, thread, sent)

    assert SECRET.encode() not in data
    assert b"LIST" not in data
    assert sent["attachment"]["duration_ms"] == 1000


@pytest.fixture
def impatient_app(settings: Settings) -> FastAPI:
    """An app whose media workers have a hundredth of a second for each file."""
    return create_app(settings.model_copy(update={"media_seconds": 0.01}))


async def test_a_file_that_takes_too_long_is_refused_and_the_workers_recover(
    impatient_app: FastAPI, settings: Settings
) -> None:
    root = await create_superadmin(settings)
    async with running_client(impatient_app) as client:
        world = await build_world(client, await login(client, root))
        thread = await _thread(client, world)
        slow = await upload(client, thread, world.patient_1_user, png(), "a.png")
        again = await upload(client, thread, world.patient_1_user, png(), "b.png")

    assert slow.status_code == again.status_code == 422
    assert "too long" in slow.json()["detail"]


async def _thread(client: httpx.AsyncClient, world: World) -> Thread:
    body = {"patient_id": world.patient_1, "include_patient": True, "message": {"text": "Hi"}}
    started = await ok(
        await call(client, "POST", "/api/v1/conversations", world.clinician_a, json=body)
    )
    return Thread(world, started["id"], f"/api/v1/conversations/{started['id']}")
