"""What a person does on the pages, step by step."""

import re
from urllib.parse import urlsplit

import httpx
import pyotp
from playwright.async_api import Browser, BrowserContext, Page

from tests.support.auth import Account
from tests.web.conftest import DemoSite

# The demo's patients as the "new conversation" picker names them: never by name alone.
ALEX = "Smith, Alex \u2014 born 12 Mar 1984 \u00b7 female \u00b7 NHS 999 111 2227"
OTHER_ALEX = "Smith, Alex \u2014 born 30 Jul 1992 \u00b7 male \u00b7 NHS 999 222 3332"
SAM = "Taylor, Sam \u2014 born 2 Nov 1958 \u00b7 male \u00b7 NHS 999 333 4448"


async def signed_in(
    browser: Browser, site: DemoSite, username: str, *, width: int = 1100
) -> tuple[BrowserContext, Page]:
    context = await browser.new_context(
        base_url=site.base_url, viewport={"width": width, "height": 900}
    )
    page = await context.new_page()
    login = site.logins[username]
    await page.goto("/login")
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(login.password)
    await page.get_by_role("button", name="Sign in").click()
    if login.totp_secret:
        await page.get_by_label("Code").fill(pyotp.TOTP(login.totp_secret).now())
        await page.get_by_role("button", name="Continue").click()
    await page.wait_for_url("**/inbox*")
    return context, page


async def signed_in_as_admin(browser: Browser, site: DemoSite) -> tuple[BrowserContext, Page]:
    """The demo admin has no TOTP and lands on the administration page."""
    context = await browser.new_context(
        base_url=site.base_url, viewport={"width": 1100, "height": 900}
    )
    page = await context.new_page()
    await page.goto("/login")
    await page.get_by_label("Username").fill("admin")
    await page.get_by_label("Password").fill(site.logins["admin"].password)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url("**/admin")
    return context, page


async def start_conversation(
    page: Page, patient: str, first_message: str, *, with_patient: bool = False
) -> str:
    """Starts a conversation from the "new conversation" page; answers its path."""
    await page.goto("/conversations/new")
    await choose_patient(page, patient)
    if with_patient:
        await page.get_by_label("The patient (through their portal)").check()
    await page.get_by_label("First message").fill(first_message)
    await page.get_by_role("button", name="Start the conversation").click()
    await page.wait_for_url(re.compile(r"/conversations/\d+$"))
    return urlsplit(page.url).path


async def choose_patient(page: Page, patient: str) -> None:
    """Finds the patient by NHS number on the page's search, and chooses them by the label
    that names them in full."""
    await page.get_by_label("Find the patient").fill(patient.split("NHS ")[1])
    await page.get_by_role("button", name="Search").click()
    await page.get_by_role("link", name=patient, exact=True).click()


async def browser_sign_in(client: httpx.AsyncClient, account: Account) -> str:
    """Signs in over plain HTTP as a browser would; answers the session's CSRF token."""
    await client.get("/login")
    signed_in = await client.post(
        "/login",
        data={
            "username": account.username,
            "password": account.password,
            "login_csrf": client.cookies["parley_login_csrf"],
        },
    )
    assert signed_in.status_code == 303
    account_page = await client.get("/account")
    found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', account_page.text)
    assert found is not None
    return found.group(1)
