"""Images and voice notes through the pages: attached, recorded with the microphone, opened."""

import io

from PIL import Image
from playwright.async_api import Browser, Page, expect

from tests.web.conftest import DemoSite, screenshot
from tests.web.pages import ALEX, signed_in, start_conversation


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 40, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


async def _image_loaded(page: Page) -> bool:
    image = page.get_by_role("img", name="rash.png")
    await expect(image).to_be_visible(timeout=10_000)
    width = await image.evaluate("(element) => element.complete && element.naturalWidth")
    return bool(width)


async def test_a_clinician_sends_an_image_and_a_voice_note_that_the_patient_can_open(
    browser: Browser, demo_site: DemoSite
) -> None:
    doctor_context, doctor = await signed_in(browser, demo_site, "dr_patel")
    conversation_path = await start_conversation(
        doctor, ALEX, "Here is the photo you asked about.", with_patient=True
    )

    await doctor.get_by_label("Attach an image or a voice note").set_input_files(
        {"name": "rash.png", "mimeType": "image/png", "buffer": _png()}
    )
    await doctor.get_by_role("button", name="Send", exact=True).click()
    assert await _image_loaded(doctor)

    await doctor.get_by_role("button", name="Record a voice note").click()
    await expect(doctor.get_by_role("status")).to_have_text("Recording…")
    await doctor.wait_for_timeout(1_500)
    await doctor.get_by_role("button", name="Stop and send").click()
    await expect(doctor.get_by_role("status")).to_have_text("Sent.", timeout=10_000)
    voice_note = doctor.locator("audio[aria-label^='Voice note from']")
    await expect(voice_note).to_have_count(1)
    await screenshot(doctor, "clinician-attachments")

    patient_context, patient = await signed_in(browser, demo_site, "alex")
    await patient.goto(conversation_path)
    assert await _image_loaded(patient)
    source = await patient.locator("audio").get_attribute("src")
    assert source is not None
    audio = await patient.request.get(source)
    assert audio.status == 200
    assert audio.headers["content-type"].startswith("audio/")
    assert len(await audio.body()) > 0
    await doctor_context.close()
    await patient_context.close()
