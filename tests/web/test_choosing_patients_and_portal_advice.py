"""Over plain HTTP: a patient is chosen by search and told apart by birth date and NHS
number, never by a default or a typed id; a patient always sees their practice's advice;
a refused send keeps what was typed; registering the same person twice is questioned."""

import re
from typing import Any

import httpx

from app.organisations.settings import DEFAULT_EMERGENCY_TEXT
from tests.support.auth import Account
from tests.support.conversations import Thread
from tests.support.world import World, call, ok
from tests.web.pages import browser_sign_in

DANA = "Quill, Dana \u2014 born 12 Mar 1984 \u00b7 NHS 943 476 5919"
ELI = "Quill, Eli \u2014 born 1 May 1990 \u00b7 no NHS number"


async def _patient(
    client: httpx.AsyncClient, creator: Account, organisation_id: int, name: str, **fields: Any
) -> str:
    given, family = name.split()
    body = {"given_name": given, "family_name": family, "organisation_id": organisation_id}
    created = await ok(await call(client, "POST", "/api/v1/patients", creator, json=body | fields))
    patient_id: str = created["id"]
    return patient_id


async def _signed_in(client: httpx.AsyncClient, account: Account) -> str:
    """A fresh page session for `account` (the last one's cookies dropped); its CSRF token."""
    client.cookies.clear()
    return await browser_sign_in(client, account)


def _banner(page: str) -> str:
    """The chosen patient's banner on a page, or "" when there is none."""
    found = re.search(r'<section class="patient-banner" aria-label="Patient">(.*?)</section>',
                      page, re.DOTALL)  # fmt: skip
    return found.group(1) if found else ""


def _notice(page: str) -> str:
    """The "Before you write" notice on a patient's page, or "" when there is none."""
    found = re.search(r'<aside class="practice-notice".*?</aside>', page, re.DOTALL)
    return found.group(0) if found else ""


async def _message_texts(client: httpx.AsyncClient, thread: Thread, reader: Account) -> list[str]:
    page = await ok(await call(client, "GET", f"{thread.url}/messages", reader))
    return [message["text"] for message in page["items"]]


async def test_a_clinician_chooses_a_patient_by_search_and_only_one_they_may_see(
    client: httpx.AsyncClient, world: World
) -> None:
    dana = await _patient(
        client, world.clinician_a, world.org_a, "Dana Quill",
        birth_date="1984-03-12", nhs_number="943 476 5919",
    )  # fmt: skip
    eli = await _patient(
        client, world.clinician_a, world.org_a, "Eli Quill", birth_date="1990-05-01"
    )
    finn = await _patient(client, world.clinician_b, world.org_b, "Finn Quill")
    await _signed_in(client, world.clinician_a)

    blank = await client.get("/conversations/new")
    assert blank.status_code == 200
    assert "First message" not in blank.text
    assert 'name="patient_id"' not in blank.text
    assert "Quill" not in blank.text

    found = await client.get("/conversations/new", params={"patient_q": "quill"})
    assert found.status_code == 200
    assert f'<a href="/conversations/new?patient_id={dana}">{DANA}</a>' in found.text
    assert f'<a href="/conversations/new?patient_id={eli}">{ELI}</a>' in found.text
    assert f"patient_id={finn}" not in found.text
    assert "Finn" not in found.text
    assert "First message" not in found.text

    other = await client.get("/conversations/new", params={"patient_id": finn})
    assert "cannot be chosen" in other.text
    assert "Finn" not in other.text
    assert 'name="patient_id"' not in other.text
    assert "First message" not in other.text

    chosen = await client.get("/conversations/new", params={"patient_id": dana})
    assert chosen.status_code == 200
    banner = _banner(chosen.text)
    assert "Dana Quill" in banner
    assert "born 12 Mar 1984" in banner
    assert "NHS 943 476 5919" in banner
    assert f'<input type="hidden" name="patient_id" value="{dana}">' in chosen.text
    assert "First message" in chosen.text
    assert "cannot be chosen" not in chosen.text


async def test_a_search_too_short_to_run_says_so_on_the_page(
    client: httpx.AsyncClient, world: World
) -> None:
    await _signed_in(client, world.clinician_a)

    response = await client.get("/conversations/new", params={"patient_q": "A"})

    assert response.status_code == 200
    assert "Type at least 2 characters" in response.text
    assert 'aria-label="Patients found"' not in response.text
    assert "Alpha" not in response.text


async def test_a_patient_always_sees_emergency_advice_and_their_practice(
    client: httpx.AsyncClient, world: World, admin: Account
) -> None:
    await _signed_in(client, world.patient_1_user)
    before = _notice((await client.get("/inbox")).text)
    assert DEFAULT_EMERGENCY_TEXT in before
    assert "Riverside Practice" in before

    settings = {
        "display_name": "Riverside Surgery",
        "phone": "01632 960123",
        "reply_time_text": "We reply within 2 working days.",
        "emergency_text": "Urgent? Ring the surgery before 6pm, or 999.",
    }
    url = f"/api/v1/organisations/{world.org_a}"
    await ok(await call(client, "PATCH", url, admin, json={"settings": settings}))

    after = _notice((await client.get("/inbox")).text)
    for shown in settings.values():
        assert shown in after
    assert DEFAULT_EMERGENCY_TEXT not in after
    assert "Riverside Practice" not in after

    await _signed_in(client, world.clinician_a)
    staff_inbox = await client.get("/inbox")
    assert staff_inbox.status_code == 200
    assert _notice(staff_inbox.text) == ""
    assert settings["emergency_text"] not in staff_inbox.text


async def test_a_patients_refused_send_keeps_their_words_and_says_whom_to_phone(
    client: httpx.AsyncClient, thread: Thread
) -> None:
    world = thread.world
    await ok(await call(client, "PATCH", thread.url, world.clinician_a, json={"status": "closed"}))
    csrf = await _signed_in(client, world.patient_1_user)
    typed = "Could you check my blood test results please"

    response = await client.post(
        f"/conversations/{thread.id}/messages", data={"csrf_token": csrf, "text": typed}
    )

    assert response.status_code == 409
    assert typed in response.text
    assert "Your practice has closed this conversation" in response.text
    assert "phone Riverside Practice" in response.text
    assert "staff can reopen it" not in response.text  # staff's wording, not the patient's
    assert await _message_texts(client, thread, world.clinician_a) == ["Hello"]


async def test_a_clinicians_empty_send_is_refused_beside_the_message_box(
    client: httpx.AsyncClient, thread: Thread
) -> None:
    world = thread.world
    csrf = await _signed_in(client, world.clinician_a)

    response = await client.post(
        f"/conversations/{thread.id}/messages", data={"csrf_token": csrf, "text": "   "}
    )

    assert response.status_code == 422
    assert 'id="text-error"' in response.text
    assert "Write a message, or attach a file." in response.text
    assert 'aria-describedby="text-error"' in response.text
    assert await _message_texts(client, thread, world.clinician_a) == ["Hello"]


async def test_an_admin_links_a_patients_login_to_a_patient_found_by_search(
    client: httpx.AsyncClient, world: World, admin: Account
) -> None:
    dana = await _patient(
        client, world.clinician_a, world.org_a, "Dana Quill",
        birth_date="1984-03-12", nhs_number="943 476 5919",
    )  # fmt: skip
    await _signed_in(client, admin)

    blank = await client.get("/admin/users")
    assert blank.status_code == 200
    assert "fhir_patient_id" not in blank.text
    assert "patient id" not in blank.text.lower()

    found = await client.get("/admin/users", params={"patient_q": "quill"})
    assert f'<a href="/admin/users?patient_id={dana}#new-user">{DANA}</a>' in found.text

    chosen = await client.get("/admin/users", params={"patient_id": dana})
    assert chosen.status_code == 200
    banner = _banner(chosen.text)
    assert "The patient whose own login this is" in banner
    assert "Dana Quill" in banner
    assert "NHS 943 476 5919" in banner
    assert f'<input type="hidden" name="fhir_patient_id" value="{dana}">' in chosen.text
    assert 'id="fhir_patient_id"' not in chosen.text  # no field to type an id into
    assert "patient id" not in chosen.text.lower()


async def test_registering_the_same_name_and_birth_date_again_is_questioned(
    client: httpx.AsyncClient, world: World, admin: Account
) -> None:
    await _patient(
        client, world.clinician_a, world.org_a, "Jordan Reyes",
        birth_date="1984-03-09", nhs_number="401 023 2137",
    )  # fmt: skip
    csrf = await _signed_in(client, admin)
    form = {
        "csrf_token": csrf, "given_name": "Jordan", "family_name": "Reyes",
        "birth_date": "1984-03-09",
    }  # fmt: skip
    url = f"/admin/organisations/{world.org_a}/patients/new"

    async def reyes_count() -> int:
        page = await ok(await call(client, "GET", "/api/v1/patients?q=reyes", admin))
        return len(page["items"])

    warned = await client.post(url, data=form)
    assert warned.status_code == 409
    duplicates = re.search(r'id="possible-duplicates">(.*?)</div>', warned.text, re.DOTALL)
    assert duplicates is not None
    assert "Jordan Reyes" in duplicates.group(1)
    assert "NHS 401 023 2137" in duplicates.group(1)
    assert "born 9 Mar 1984" in duplicates.group(1)
    assert 'name="different_person"' in warned.text
    assert await reyes_count() == 1

    registered = await client.post(url, data=form | {"different_person": "true"})
    assert registered.status_code == 303
    assert await reyes_count() == 2
    audit = await ok(
        await call(
            client,
            "GET",
            "/api/v1/audit",
            admin,
            params={"action": "patients.registered_beside_possible_duplicates"},
        )
    )
    assert [row["action"] for row in audit["items"]] == [
        "patients.registered_beside_possible_duplicates"
    ]


async def test_two_records_that_would_read_the_same_are_told_apart_in_the_picker(
    client: httpx.AsyncClient, world: World
) -> None:
    first = await _patient(client, world.clinician_a, world.org_a, "Gale Quill")
    second = await _patient(client, world.clinician_a, world.org_a, "Gale Quill")
    await _signed_in(client, world.clinician_a)

    found = await client.get("/conversations/new", params={"patient_q": "gale quill"})

    for patient_id in (first, second):
        assert f"record {patient_id[:8]} (two records look alike)" in found.text


async def test_a_refused_correction_keeps_its_text_in_its_own_box(
    client: httpx.AsyncClient, thread: Thread
) -> None:
    world = thread.world
    first = (await _message_ids(client, thread, world.clinician_a))[0]
    await ok(await call(client, "PATCH", thread.url, world.clinician_a, json={"status": "closed"}))
    csrf = await _signed_in(client, world.clinician_a)
    typed = "Correction: the dose is 5 mg, not 50 mg."

    response = await client.post(
        f"/conversations/{thread.id}/messages",
        data={"csrf_token": csrf, "text": typed, "amends_id": str(first)},
    )

    assert response.status_code == 409
    assert typed in response.text
    assert "Not sent: " in response.text
    # The page's own address, for the script to put back: a reload must not send again.
    assert f'data-page="/conversations/{thread.id}"' in response.text
    assert await _message_texts(client, thread, world.clinician_a) == ["Hello"]


async def test_a_patient_is_told_images_are_off_but_writing_is_not(
    client: httpx.AsyncClient, thread: Thread, admin: Account
) -> None:
    world = thread.world
    await call(client, "DELETE", f"/api/v1/organisations/{world.org_a}/features/attachments", admin)
    csrf = await _signed_in(client, world.patient_1_user)
    png = (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
        b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8"
        b"N\x00\x00\x00\x00IEND\xaeB`\x82"
    )

    response = await client.post(
        f"/conversations/{thread.id}/messages",
        data={"csrf_token": csrf, "text": "Here is the rash"},
        files={"file": ("rash.png", png, "image/png")},
    )

    assert response.status_code == 403
    assert "does not take images or voice notes here; you can still write" in response.text
    assert "Here is the rash" in response.text
    assert "phone Riverside Practice" in response.text


async def test_a_patient_id_that_is_not_one_is_refused_before_any_lookup(
    client: httpx.AsyncClient, world: World
) -> None:
    await _signed_in(client, world.clinician_a)

    response = await client.get("/conversations/new", params={"patient_id": "x\x00y"})

    assert response.status_code == 422


async def _message_ids(client: httpx.AsyncClient, thread: Thread, reader: Account) -> list[int]:
    page = await ok(await call(client, "GET", f"{thread.url}/messages", reader))
    return [message["id"] for message in page["items"]]
