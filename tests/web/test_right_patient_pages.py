"""Choosing and seeing the right patient in a real browser: two Alex Smiths in the demo,
told apart by birth date and NHS number wherever a patient is chosen or shown."""

from playwright.async_api import Browser, expect

from tests.web.conftest import DemoSite, screenshot
from tests.web.pages import ALEX, OTHER_ALEX, signed_in


async def test_a_clinician_finds_chooses_and_sees_the_right_alex_smith(
    browser: Browser, demo_site: DemoSite
) -> None:
    context, doctor = await signed_in(browser, demo_site, "dr_patel")

    await doctor.goto("/patients")
    await doctor.get_by_label("Find a patient").fill("smi al")
    await doctor.get_by_role("button", name="Search").click()
    rows = doctor.get_by_role("row").filter(has_text="Smith, Alex")
    await expect(rows).to_have_count(2)
    await expect(rows.filter(has_text="999 222 3332")).to_contain_text("30 Jul 1992")
    await doctor.get_by_label("Find a patient").fill("999 222 3332")
    await doctor.get_by_role("button", name="Search").click()
    await expect(doctor.get_by_role("row").filter(has_text="Smith, Alex")).to_have_count(1)
    await doctor.get_by_label("Find a patient").fill("a")
    await doctor.get_by_role("button", name="Search").click()
    await expect(doctor.get_by_text("Type at least 2 characters to search.")).to_be_visible()

    await doctor.goto("/conversations/new")
    # Never a patient chosen for the clinician: no form until they choose one.
    await expect(doctor.get_by_label("First message")).to_have_count(0)
    await doctor.get_by_label("Find the patient").fill("alex smith")
    await doctor.get_by_role("button", name="Search").click()
    found = doctor.get_by_role("list", name="Patients found").get_by_role("link")
    await expect(found).to_have_count(2)
    for label in (ALEX, OTHER_ALEX):  # each told apart by birth date and NHS number
        await expect(found.filter(has_text=label)).to_have_count(1)
    await doctor.get_by_role("link", name=OTHER_ALEX, exact=True).click()
    chosen = doctor.get_by_role("region", name="Patient")
    await expect(chosen).to_contain_text("born 30 Jul 1992")
    await expect(chosen).to_contain_text("NHS 999 222 3332")
    await doctor.get_by_label("First message").fill("Your repeat prescription is ready.")
    await doctor.get_by_role("button", name="Start the conversation").click()
    banner = doctor.get_by_role("region", name="Patient")
    await expect(banner).to_contain_text("Alex Smith")
    await expect(banner).to_contain_text("born 30 Jul 1992")
    await expect(banner).to_contain_text("NHS 999 222 3332")
    await screenshot(doctor, "patient-banner")

    await doctor.goto("/inbox")
    await expect(doctor.get_by_text("NHS 999 222 3332")).to_be_visible()
    await context.close()
