"""Triage in a real browser: a clinician marks a conversation urgent, takes it, and marks
it done; the inbox shows who has it and that the patient is waiting."""

from playwright.async_api import Browser, expect

from tests.web.conftest import DemoSite, screenshot
from tests.web.pages import ALEX, signed_in, start_conversation


async def test_a_clinician_triages_a_conversation_the_patient_is_waiting_on(
    browser: Browser, demo_site: DemoSite
) -> None:
    doctor_context, doctor = await signed_in(browser, demo_site, "dr_patel")
    path = await start_conversation(doctor, ALEX, "How is the cough?", with_patient=True)
    patient_context, patient = await signed_in(browser, demo_site, "alex")
    await patient.goto(path)
    await patient.get_by_label("Message", exact=True).fill("Worse at night, and a fever.")
    await patient.get_by_role("button", name="Send", exact=True).click()
    await expect(patient.get_by_text("Worse at night, and a fever.")).to_be_visible()
    # Triage is the care team's: the patient sees none of its controls.
    await expect(patient.get_by_role("button", name="Mark urgent")).to_have_count(0)

    await doctor.goto(path)
    await doctor.get_by_role("button", name="Mark urgent").click()
    await doctor.get_by_role("button", name="Assign to me").click()
    triage = doctor.locator("#triage")
    await expect(triage).to_contain_text("assigned to Dr Priya Patel")
    await expect(triage).to_contain_text("the patient has waited since")
    await expect(doctor.get_by_text("Urgent", exact=True)).to_be_visible()

    await doctor.goto("/inbox")
    row = doctor.get_by_role("listitem").filter(has_text="Worse at night, and a fever.")
    await expect(row).to_contain_text("Urgent")
    await expect(row).to_contain_text("Dr Priya Patel")
    await expect(row).to_contain_text("waiting under a minute")
    await expect(row).to_contain_text("last activity")
    await screenshot(doctor, "inbox-triage")
    views = doctor.get_by_role("navigation", name="Views")
    # The inbox opens on Mine, each tab with its numbers.
    await expect(views.get_by_role("link", name="Mine")).to_have_attribute("aria-current", "page")
    await expect(views.get_by_role("link", name="Overdue")).to_contain_text("0 open")
    await expect(views.get_by_role("link", name="Mine")).to_contain_text("1 open")
    await views.get_by_role("link", name="Mine").click()
    await expect(views.get_by_role("link", name="Mine")).to_have_attribute("aria-current", "page")
    await expect(row).to_be_visible()
    await doctor.get_by_label("Assigned to me").check()
    await doctor.get_by_role("button", name="Filter").click()
    await expect(row).to_be_visible()  # Dr Patel took it
    await expect(doctor.get_by_label("Assigned to me")).to_be_checked()
    await views.get_by_role("link", name="Unassigned").click()
    await expect(row).to_have_count(0)  # it is Dr Patel's now

    await doctor.goto(path)
    await doctor.get_by_label("Note (optional)").fill("Booked an appointment")
    await doctor.get_by_role("button", name="Mark done").click()
    await expect(doctor.locator("#triage")).to_contain_text("done")
    await expect(doctor.get_by_role("button", name="Mark not done")).to_be_visible()
    for context in (doctor_context, patient_context):
        await context.close()
