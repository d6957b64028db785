"""An admin manages an organisation's patients through the pages; clinicians see the result."""

from playwright.async_api import Browser, expect

from tests.web.conftest import DemoSite, screenshot
from tests.web.pages import SAM, signed_in, signed_in_as_admin


async def test_an_admin_registers_and_deactivates_a_patient_whom_clinicians_see(
    browser: Browser, demo_site: DemoSite
) -> None:
    admin_context, admin = await signed_in_as_admin(browser, demo_site)
    await admin.goto("/admin/organisations")
    await admin.get_by_role("link", name="Riverside Health Centre").click()
    await admin.get_by_role("button", name="Register patient").click()
    await expect(admin.get_by_label("Given name")).to_have_attribute("aria-invalid", "true")
    await expect(admin.locator("#family_name-error")).to_be_visible()

    await admin.get_by_label("Given name").fill("Jordan")
    await admin.get_by_label("Family name").fill("Reyes")
    await admin.get_by_label("Date of birth").fill("1984-03-09")
    await admin.get_by_role("button", name="Register patient").click()
    registered = admin.get_by_role("row").filter(has_text="Reyes, Jordan")
    await expect(registered).to_contain_text("Primary organisation")
    await expect(registered).to_contain_text("Active")
    await screenshot(admin, "admin-organisation-patients")

    doctor_context, doctor = await signed_in(browser, demo_site, "dr_patel")
    await doctor.goto("/patients")
    await expect(doctor.get_by_role("row").filter(has_text="Reyes, Jordan")).to_have_count(1)

    await admin.get_by_role("button", name="Deactivate Reyes, Jordan").click()
    await expect(registered).to_contain_text("Deactivated")
    await doctor.reload()
    await expect(doctor.get_by_role("row").filter(has_text="Reyes, Jordan")).to_have_count(0)
    await doctor_context.close()
    await admin_context.close()


async def test_an_admin_removes_a_patient_from_an_organisation(
    browser: Browser, demo_site: DemoSite
) -> None:
    admin_context, admin = await signed_in_as_admin(browser, demo_site)
    await admin.goto("/admin/organisations")
    await admin.get_by_role("link", name="Riverside Health Centre").click()
    await admin.get_by_role(
        "button", name="Remove Taylor, Sam from Riverside Health Centre"
    ).click()

    await expect(admin.get_by_role("row").filter(has_text="Taylor, Sam")).to_have_count(0)
    doctor_context, doctor = await signed_in(browser, demo_site, "dr_patel")
    await doctor.goto("/patients")
    await expect(doctor.get_by_role("row").filter(has_text="Taylor, Sam")).to_have_count(0)

    await admin.get_by_label("Find the patient").fill("taylor")
    await admin.get_by_role("button", name="Search").click()
    await admin.get_by_role("link", name=SAM, exact=True).click()
    await expect(admin.get_by_role("region", name="Patient", exact=True)).to_contain_text(
        "999 333 4448"
    )
    await admin.get_by_label("Make this their primary organisation").check()
    await admin.get_by_role("button", name="Add patient").click()
    await expect(admin.get_by_role("row").filter(has_text="Taylor, Sam")).to_contain_text(
        "Primary organisation"
    )
    await doctor.reload()
    await expect(doctor.get_by_role("row").filter(has_text="Taylor, Sam")).to_have_count(1)
    await doctor_context.close()
    await admin_context.close()
