"""Free text and numbers from outside: controls refused, invisible characters made harmless,
numbers bounded, and never a 500, on SQLite and PostgreSQL alike."""

import base64
import json
from typing import Any

import httpx
import pytest

from tests.support.auth import Account, code_at
from tests.support.conversations import Thread, send, start_conversation
from tests.support.media import png
from tests.support.world import World, call, ok

CONTROLS = ["a\x00b", "a\x07b", "a\x1bb", "a\x85b", "a\u202eb", "a\u2066b"]


def cursor_of(*values: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode()


@pytest.mark.parametrize("text", CONTROLS)
async def test_a_message_with_a_control_character_is_refused_and_nothing_is_written(
    client: httpx.AsyncClient, thread: Thread, text: str
) -> None:
    world = thread.world
    before = await ok(await call(client, "GET", f"{thread.url}/messages", world.clinician_a))

    sent = await send(client, thread, world.clinician_a, text)
    files = {"file": ("x.png", png(), "image/png")}
    uploaded = await call(
        client, "POST", f"{thread.url}/messages", world.clinician_a, files=files,
        data={"text": text},
    )  # fmt: skip
    after = await ok(await call(client, "GET", f"{thread.url}/messages", world.clinician_a))

    assert sent.status_code == 422
    assert uploaded.status_code == 422
    assert len(after["items"]) == len(before["items"])


async def test_zero_width_characters_leave_what_every_screen_shows(
    client: httpx.AsyncClient, thread: Thread
) -> None:
    world = thread.world

    sent = await ok(
        await send(client, thread, world.clinician_a, "dose 10\u200b0 mg\r\nthen e\u0301")
    )

    assert sent["text"] == "dose 100 mg\nthen \u00e9"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/conversations", {"subject": "Re\x00sults"}),
        ("/api/v1/organisations", {"name": "Clinic\x00", "type": "clinic"}),
        ("/api/v1/patients", {"given_name": "Al\x00", "family_name": "Smith"}),
        ("/api/v1/groups", {"name": "Team\u202e", "member_ids": []}),
        ("/api/v1/users", {"full_name": "Jo\x00 Bloggs"}),
    ],
)
async def test_subjects_and_names_with_controls_are_422(
    client: httpx.AsyncClient, world: World, admin: Account, path: str, body: dict[str, Any]
) -> None:
    defaults: dict[str, dict[str, Any]] = {
        "/api/v1/conversations": {"patient_id": world.patient_1, "message": {"text": "Hi"}},
        "/api/v1/patients": {"organisation_id": world.org_a},
        "/api/v1/groups": {"organisation_id": world.org_a},
        "/api/v1/users": {
            "username": "jo_bloggs", "email": "jo@example.org", "password": "a long passphrase",
            "system_permissions": "staff", "base_profession": "nurse",
        },
    }  # fmt: skip
    caller = world.clinician_a if path == "/api/v1/conversations" else admin

    response = await call(client, "POST", path, caller, json=defaults.get(path, {}) | body)

    assert response.status_code == 422


@pytest.mark.parametrize("username", ["adm\x00in", "admin\x1b", "\x00"])
async def test_a_login_name_with_a_control_character_is_a_failed_login(
    client: httpx.AsyncClient, admin: Account, username: str
) -> None:
    response = await client.post(
        "/api/v1/auth/login", json={"username": username, "password": "whatever it is"}
    )

    assert response.status_code == 401


@pytest.mark.parametrize("digits", ["\u0661\u0662\u0663\u0664\u0665\u0666", "\uff11" * 6])
async def test_totp_codes_in_other_digits_are_refused_not_500(
    client: httpx.AsyncClient, admin: Account, digits: str
) -> None:
    setup = await ok(await call(client, "POST", "/api/v1/auth/totp/setup", admin))
    enable = await call(client, "POST", "/api/v1/auth/totp/enable", admin, json={"code": digits})
    await ok(
        await call(
            client, "POST", "/api/v1/auth/totp/enable", admin,
            json={"code": code_at(setup["secret"])},
        )
    )  # fmt: skip
    login = await client.post(
        "/api/v1/auth/login",
        json={"username": admin.username, "password": admin.password, "totp_code": digits},
    )

    assert enable.status_code == 422
    assert login.status_code in (401, 422)


@pytest.mark.parametrize(
    "cursor",
    [
        cursor_of("2026-01-01T00:00:00+00:00", 2**63),
        cursor_of("2026-01-01T00:00:00+00:00", -1),
        cursor_of("0001-01-01T00:00:00+05:00", 1),
        cursor_of("9999-12-31T23:00:00-05:00", 1),
        cursor_of("2026-01-01T00:00:00+00:00", 10**40),
    ],
)
async def test_a_cursor_out_of_range_is_422(
    client: httpx.AsyncClient, thread: Thread, cursor: str
) -> None:
    clinician = thread.world.clinician_a
    inbox = await call(client, "GET", "/api/v1/conversations", clinician, params={"cursor": cursor})
    page = await call(client, "GET", f"{thread.url}/messages", clinician, params={"before": cursor})

    assert inbox.status_code == 422
    assert page.status_code == 422


async def test_a_patient_list_cursor_with_a_nul_is_422(
    client: httpx.AsyncClient, world: World
) -> None:
    cursor = cursor_of("Sm\x00ith", "Al", "p-1")

    response = await call(
        client, "GET", "/api/v1/patients", world.clinician_a, params={"cursor": cursor}
    )

    assert response.status_code == 422


async def test_an_event_id_beyond_the_column_is_422(
    client: httpx.AsyncClient, world: World
) -> None:
    headers = world.clinician_a.headers | {"Last-Event-ID": "9" * 20}

    response = await client.get("/api/v1/events", headers=headers)

    assert response.status_code == 422


async def test_a_conversation_started_with_clean_text_still_works(
    client: httpx.AsyncClient, world: World
) -> None:
    """The guard refuses what it must and nothing more: accents, emoji, tabs, newlines."""
    started = await start_conversation(
        client, world, world.clinician_a, subject="Résumé 👩‍⚕️",
        message={"text": "Line one\n\tLine two: ½ tablet"},
    )  # fmt: skip

    assert started["subject"] == "Résumé 👩\u200d⚕️"
    assert started["last_message"]["preview"].startswith("Line one")


async def test_lengths_count_the_text_as_stored(
    client: httpx.AsyncClient, world: World, admin: Account
) -> None:
    """NFC can lengthen text and removing invisible characters can empty it: the limits
    apply to what is stored, so neither is a 500 nor an empty name."""
    expanding = "\ufb2c" * 200  # each becomes three characters in NFC
    subject = await call(
        client, "POST", "/api/v1/conversations", world.clinician_a,
        json={"patient_id": world.patient_1, "subject": expanding, "message": {"text": "Hi"}},
    )  # fmt: skip
    invisible_name = await call(
        client, "POST", "/api/v1/organisations", admin,
        json={"name": "\u200b\u2060", "type": "clinic"},
    )  # fmt: skip

    assert subject.status_code == 422
    assert invisible_name.status_code == 422


async def test_more_invisible_characters_are_removed_and_flags_and_emoji_kept(
    client: httpx.AsyncClient, thread: Thread
) -> None:
    scotland = "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"
    health_worker = "\U0001f469\u200d\u2695\ufe0f"
    text = f"a\u180eb c\u2062d e\U000e0041f g\u3164h {scotland} {health_worker}"

    sent = await ok(await send(client, thread, thread.world.clinician_a, text))

    assert sent["text"] == f"ab cd ef gh {scotland} {health_worker}"


async def test_hostile_values_in_browser_forms_and_headers_are_4xx(
    client: httpx.AsyncClient, world: World
) -> None:
    await client.get("/login")
    login = await client.post(
        "/login", data={"username": "x", "password": "y", "login_csrf": "\u00e9t\u00e9"}
    )
    inbox = await call(client, "GET", "/api/v1/conversations", world.clinician_a,
                       params={"patient_id": "p\x00"})  # fmt: skip
    patient = await call(client, "GET", "/api/v1/patients/p%00x", world.clinician_a)

    assert 400 <= login.status_code < 500
    assert inbox.status_code == 422
    assert patient.status_code in (404, 422)
