"""People using Parley through its pages, in a real browser."""

import pyotp
from playwright.async_api import Browser, expect

from tests.web.conftest import DemoSite, screenshot
from tests.web.pages import (
    ALEX,
    SAM,
    choose_patient,
    signed_in,
    signed_in_as_admin,
    start_conversation,
)


async def test_clinician_and_patient_talk_live_and_the_clinician_amends(
    browser: Browser, demo_site: DemoSite
) -> None:
    doctor_context, doctor = await signed_in(browser, demo_site, "dr_jones")
    patient_context, patient = await signed_in(browser, demo_site, "alex")
    advice = patient.get_by_role("complementary", name="Before you write")
    await expect(advice).to_contain_text("Not for emergencies: call 999, or 111 for urgent advice.")
    await expect(advice).to_contain_text("We reply within 2 working days.")
    await screenshot(patient, "patient-inbox-empty")

    await doctor.get_by_role("link", name="New conversation").click()
    await choose_patient(doctor, ALEX)
    await doctor.get_by_label("Subject").fill("Blood test results")
    await doctor.get_by_label("The patient (through their portal)").check()
    await doctor.get_by_label("First message").fill("Your potassium is 5 mmol/L.")
    await screenshot(doctor, "clinician-new-conversation")
    await doctor.get_by_role("button", name="Start the conversation").click()
    await expect(doctor.get_by_text("Your potassium is 5 mmol/L.")).to_be_visible()

    # The patient's inbox was open all along: the conversation arrives without a reload.
    await expect(patient.get_by_role("link", name="Blood test results")).to_be_visible(
        timeout=10_000
    )
    await expect(patient.get_by_label("1 unread")).to_be_visible()
    await screenshot(patient, "patient-inbox")
    await patient.get_by_role("link", name="Blood test results").click()
    await patient.get_by_label("Message", exact=True).fill("Is that bad, doctor?")
    await patient.get_by_role("button", name="Send", exact=True).click()
    await expect(patient.get_by_text("Is that bad, doctor?")).to_be_visible()
    await screenshot(patient, "patient-conversation")

    await expect(doctor.get_by_text("Is that bad, doctor?")).to_be_visible(timeout=10_000)
    await doctor.get_by_text("Correct this message").first.click()
    await doctor.get_by_label("Correction").first.fill("Correction: 5.0 mmol/L, which is normal.")
    await doctor.get_by_role("button", name="Send correction").first.click()
    await expect(doctor.get_by_text("Correction: 5.0 mmol/L, which is normal.")).to_be_visible()
    await expect(doctor.get_by_role("link", name="corrects an earlier message")).to_be_visible()
    await expect(doctor.get_by_text("Corrected: see")).to_be_visible()
    await screenshot(doctor, "clinician-conversation")
    await expect(patient.get_by_text("Correction: 5.0 mmol/L, which is normal.")).to_be_visible(
        timeout=10_000
    )
    await doctor_context.close()
    await patient_context.close()


async def test_switching_patient_messaging_off_takes_the_reply_box_away(
    browser: Browser, demo_site: DemoSite
) -> None:
    doctor_context, doctor = await signed_in(browser, demo_site, "dr_patel")
    conversation_path = await start_conversation(
        doctor, ALEX, "Please book a review.", with_patient=True
    )
    patient_context, patient = await signed_in(browser, demo_site, "alex")
    await patient.goto(conversation_path)
    await expect(patient.get_by_label("Message", exact=True)).to_be_visible()

    admin_context, admin = await signed_in_as_admin(browser, demo_site)
    await admin.get_by_role("link", name="Organisations").first.click()
    await admin.get_by_role("link", name="Riverside Health Centre").click()
    await admin.get_by_role("button", name="Switch Patients may write off").click()
    await expect(admin.locator("#feature-patient_messaging")).to_contain_text("Off")
    await screenshot(admin, "admin-organisation")

    # The patient had the page open and writes anyway: the words stay on the page, the
    # reason is said for them, and the address is the conversation's again (a reload
    # shows the page; it does not send once more).
    typed = "My rash is spreading, should I come in?"
    await patient.get_by_label("Message", exact=True).fill(typed)
    await patient.get_by_role("button", name="Send", exact=True).click()
    await expect(patient.get_by_label("Your message, not sent")).to_have_value(typed)
    await expect(patient.get_by_role("alert")).to_contain_text("Not sent: Your practice")
    await patient.wait_for_url(f"**{conversation_path}")

    await patient.reload()
    await expect(patient.get_by_label("Message", exact=True)).to_have_count(0)
    # Said for the patient, with what to do instead.
    await expect(patient.locator("#cannot-write")).to_contain_text(
        "Your practice is not taking messages here at the moment. If you need help, phone "
        "Riverside Health Centre on 01632 960 123."
    )
    await screenshot(patient, "patient-cannot-reply")
    for context in (doctor_context, patient_context, admin_context):
        await context.close()


async def test_a_patient_cannot_reach_another_patients_conversation(
    browser: Browser, demo_site: DemoSite
) -> None:
    doctor_context, doctor = await signed_in(browser, demo_site, "dr_patel")
    conversation_path = await start_conversation(doctor, SAM, "About Sam only.")
    patient_context, patient = await signed_in(browser, demo_site, "alex")

    response = await patient.goto(conversation_path)

    assert response is not None
    assert response.status == 404
    await expect(patient.get_by_role("heading", name="Not found")).to_be_visible()
    await expect(patient.get_by_text("About Sam only.")).to_have_count(0)
    await screenshot(patient, "patient-not-found")
    await doctor_context.close()
    await patient_context.close()


async def test_a_form_without_its_csrf_token_is_refused(
    browser: Browser, demo_site: DemoSite
) -> None:
    context, page = await signed_in(browser, demo_site, "dr_patel")
    conversation_path = await start_conversation(page, ALEX, "Sent properly.")

    forged = await page.request.post(f"{conversation_path}/messages", form={"text": "Forged!"})
    wrong = await page.request.post(
        f"{conversation_path}/messages", form={"text": "Forged!", "csrf_token": "0" * 64}
    )
    await page.reload()

    assert forged.status == 403
    assert wrong.status == 403
    await expect(page.get_by_text("Forged!")).to_have_count(0)
    await context.close()


async def test_the_main_pages_render_for_each_role(browser: Browser, demo_site: DemoSite) -> None:
    context, page = await signed_in(browser, demo_site, "nurse_kim", width=390)
    await expect(page.get_by_role("heading", name="Inbox")).to_be_visible()
    await screenshot(page, "nurse-inbox-phone")
    await page.goto("/patients")
    await expect(page.get_by_role("heading", name="Patients")).to_be_visible()
    await screenshot(page, "nurse-patients-phone")
    await page.goto("/account")
    await page.get_by_role("button", name="Set up two-step sign-in").click()
    await expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
    secret = await page.locator("code").inner_text()
    await screenshot(page, "nurse-totp-enrolment")
    await page.get_by_label("Code from the app").fill(pyotp.TOTP(secret).now())
    await page.get_by_role("button", name="Turn on").click()
    await expect(page.get_by_text("Two-step sign-in is on.")).to_be_visible()
    await context.close()
    admin_context, admin = await signed_in_as_admin(browser, demo_site)
    for path, name in (
        ("/admin/users", "admin-users"),
        ("/admin/audit", "admin-audit"),
        ("/admin/organisations", "admin-organisations"),
    ):
        await admin.goto(path)
        await expect(admin.locator("h1")).to_be_visible()
        await screenshot(admin, name)
    await admin.goto("/admin/users")
    await admin.get_by_role("link", name="Nurse Jamie Kim").click()
    await expect(admin.get_by_role("heading", name="Nurse Jamie Kim")).to_be_visible()
    await screenshot(admin, "admin-user")
    await admin_context.close()
