"""What an organisation tells its patients: its settings, through the API, in its FHIR
Organization, and on the admin page."""

from typing import Any

import httpx
import pytest
from fhir.resources.R4B.organization import Organization

from app.config import Settings
from tests.support.auth import Account
from tests.support.fhir import fhir_gateway, stored
from tests.support.world import World, call, create_organisation, ok
from tests.web.pages import browser_sign_in

UK_EMERGENCY = "Not for emergencies: call 999, or 111 for urgent advice."
CHOSEN = {
    "display_name": "Riverside Surgery",
    "phone": "+44 20 7946 0000",
    "timezone": "America/New_York",
    "reply_time_text": "We reply within 2 working days.",
    "out_of_hours_text": "When we are closed, call 111.",
    "emergency_text": "In an emergency call 911.",
    "escalate_unanswered_after_hours": 24,
}


async def patch_settings(
    client: httpx.AsyncClient, account: Account, organisation_id: int, **settings: Any
) -> httpx.Response:
    return await call(
        client, "PATCH", f"/api/v1/organisations/{organisation_id}", account,
        json={"settings": settings},
    )  # fmt: skip


async def settings_of(client: httpx.AsyncClient, admin: Account, organisation_id: int) -> Any:
    url = f"/api/v1/organisations/{organisation_id}"
    return (await ok(await call(client, "GET", url, admin)))["settings"]


async def organization_of(settings: Settings, organisation_id: int) -> dict[str, Any]:
    """The organisation's FHIR Organization, read back by the id its row holds."""
    fhir_id = await stored(
        settings, "SELECT fhir_id FROM organisations WHERE id = :id", id=organisation_id
    )
    async with fhir_gateway(settings) as fhir:
        return dict((await fhir.read(Organization, fhir_id)).model_dump(mode="json"))


async def test_a_new_organisation_has_the_default_settings(
    client: httpx.AsyncClient, admin: Account
) -> None:
    organisation_id = await create_organisation(client, admin, "Riverside Practice")

    assert await settings_of(client, admin, organisation_id) == {
        "display_name": "Riverside Practice",
        "phone": None,
        "timezone": "Europe/London",
        "reply_time_text": None,
        "out_of_hours_text": None,
        "emergency_text": UK_EMERGENCY,
        "escalate_unanswered_after_hours": 48,
    }


async def test_only_the_settings_given_change_and_null_puts_one_back_to_its_default(
    client: httpx.AsyncClient, admin: Account
) -> None:
    organisation_id = await create_organisation(client, admin, "Riverside Practice")

    patched = await patch_settings(client, admin, organisation_id, **CHOSEN)
    phone_only = await patch_settings(client, admin, organisation_id, phone="01632 960000")
    after_phone = await settings_of(client, admin, organisation_id)
    await ok(
        await patch_settings(
            client, admin, organisation_id, emergency_text=None, timezone=None, display_name=None
        )
    )
    reset = await settings_of(client, admin, organisation_id)

    assert patched.status_code == 200, patched.text
    assert patched.json()["settings"] == CHOSEN
    assert phone_only.status_code == 200, phone_only.text
    assert after_phone == CHOSEN | {"phone": "01632 960000"}
    assert reset == CHOSEN | {
        "phone": "01632 960000",
        "display_name": "Riverside Practice",
        "timezone": "Europe/London",
        "emergency_text": UK_EMERGENCY,
    }


async def test_bad_settings_are_refused_and_change_nothing(
    client: httpx.AsyncClient, world: World
) -> None:
    admin, organisation_id = world.admin, world.org_a
    before = await settings_of(client, admin, organisation_id)

    bad_timezone = await patch_settings(client, admin, organisation_id, timezone="Mars/Olympus")
    bad_phone = await patch_settings(client, admin, organisation_id, phone="call me")
    unknown_key = await patch_settings(client, admin, organisation_id, opening_hours="9 to 5")
    by_clinician = await patch_settings(
        client, world.clinician_a, organisation_id, display_name="Taken over"
    )

    assert bad_timezone.status_code == 422
    assert bad_timezone.json()["errors"][0]["loc"] == ["body", "settings", "timezone"]
    assert bad_phone.status_code == 422
    assert bad_phone.json()["errors"][0]["loc"] == ["body", "settings", "phone"]
    assert unknown_key.status_code == 422
    assert unknown_key.json()["errors"][0]["loc"] == ["body", "settings", "opening_hours"]
    assert by_clinician.status_code == 403, by_clinician.text
    assert await settings_of(client, admin, organisation_id) == before


@pytest.mark.usefixtures("fhir_url")
async def test_the_fhir_organization_carries_the_phone_and_the_name_patients_see(
    client: httpx.AsyncClient, admin: Account, settings: Settings
) -> None:
    organisation_id = await create_organisation(client, admin, "Riverside Practice")
    await ok(await patch_settings(client, admin, organisation_id, **CHOSEN))

    published = await organization_of(settings, organisation_id)
    await ok(await patch_settings(client, admin, organisation_id, display_name=None, phone=None))
    reset = await organization_of(settings, organisation_id)

    assert published["name"] == "Riverside Practice"
    assert published["alias"] == ["Riverside Surgery"]
    assert published["telecom"] == [{"system": "phone", "value": "+44 20 7946 0000"}]
    assert reset["name"] == "Riverside Practice"
    assert "alias" not in reset
    assert "telecom" not in reset


async def test_an_admin_sets_them_on_the_organisation_page(
    client: httpx.AsyncClient, admin: Account
) -> None:
    organisation_id = await create_organisation(client, admin, "Riverside Practice")
    csrf = await browser_sign_in(client, admin)
    url = f"/admin/organisations/{organisation_id}/settings"
    form = {f"settings_{name}": value for name, value in CHOSEN.items()}

    saved = await client.post(url, data=form | {"csrf_token": csrf})
    shown = await settings_of(client, admin, organisation_id)
    typed = form | {
        "settings_timezone": "Mars/Olympus",
        "settings_display_name": "Typed, not saved",
    }
    refused = await client.post(url, data=typed | {"csrf_token": csrf})

    assert saved.status_code == 303, saved.text
    assert shown == CHOSEN
    assert refused.status_code == 422
    assert 'value="Mars/Olympus"' in refused.text
    assert 'value="Typed, not saved"' in refused.text
    assert 'id="settings_timezone-error"' in refused.text
    assert 'id="settings_display_name-error"' not in refused.text
    assert await settings_of(client, admin, organisation_id) == CHOSEN


async def test_saving_one_form_of_the_page_leaves_the_others_settings_alone(
    client: httpx.AsyncClient, admin: Account
) -> None:
    organisation_id = await create_organisation(client, admin, "Riverside Practice")
    await ok(
        await patch_settings(client, admin, organisation_id, escalate_unanswered_after_hours=12)
    )
    csrf = await browser_sign_in(client, admin)
    page = await client.get(f"/admin/organisations/{organisation_id}")
    url = f"/admin/organisations/{organisation_id}/settings"

    patients_form = {"settings_reply_time_text": "Within a day.", "csrf_token": csrf}
    saved = await client.post(url, data=patients_form)
    after_patients_form = await settings_of(client, admin, organisation_id)
    care_team_form = {"settings_escalate_unanswered_after_hours": "0.5", "csrf_token": csrf}
    await client.post(url, data=care_team_form)
    after_care_team_form = await settings_of(client, admin, organisation_id)

    assert 'name="settings_escalate_unanswered_after_hours" type="text" value="12' in page.text
    assert saved.status_code == 303
    assert after_patients_form["escalate_unanswered_after_hours"] == 12
    assert after_patients_form["reply_time_text"] == "Within a day."
    assert after_care_team_form["escalate_unanswered_after_hours"] == 0.5
    assert after_care_team_form["reply_time_text"] == "Within a day."
