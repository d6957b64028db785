"""A real browser (Debian's Chromium, driven by Playwright) against `parley` with the demo data."""

import os
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from playwright.async_api import Browser, Page, async_playwright

from app import demo
from app.config import Settings
from app.main import create_app
from tests.support.live import live_server
from tests.support.output import OUTPUT_DIR

CHROMIUM = os.environ.get("PARLEY_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = OUTPUT_DIR / "screenshots"
# As root, in a sandbox without a network: no sandbox of its own, and nothing phoning home.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
]  # fmt: skip


@dataclass(frozen=True)
class DemoSite:
    base_url: str
    settings: Settings
    logins: dict[str, demo.DemoLogin]


@pytest.fixture
async def demo_site(settings: Settings) -> AsyncIterator[DemoSite]:
    """What `make run` serves: `parley seed-demo` on an empty database, then the app."""
    _, logins = await demo.seed_database(settings, if_empty=False)
    async with live_server(create_app(settings)) as base_url:
        yield DemoSite(base_url, settings, {login.username: login for login in logins})


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if shutil.which(CHROMIUM) is None:
        if os.environ.get("PARLEY_REQUIRE_BROWSER") == "1":
            pytest.fail(f"no Chromium at {CHROMIUM}; PARLEY_REQUIRE_BROWSER=1 forbids skipping")
        pytest.skip(f"browser tests need Chromium at {CHROMIUM} (Debian package chromium)")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


async def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)
