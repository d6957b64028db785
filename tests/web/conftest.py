"""A real browser (Debian's Chromium, driven by Playwright) against `parley` with the demo data."""

import os
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright

from app import demo
from app.auth.passwords import password_hasher
from app.auth.service import AuthContext, ClientInfo
from app.auth.throttle import LoginThrottle, create_storage
from app.config import Settings
from app.db import create_engine, create_sessionmaker
from app.fhir.factory import create_gateway
from app.main import create_app
from tests.support.live import live_server

CHROMIUM = os.environ.get("PARLEY_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
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
    engine = create_engine(settings.database_url)
    sessionmaker = create_sessionmaker(engine)
    fhir = create_gateway(
        settings.fhir_url, sessionmaker=sessionmaker, connect_timeout=3, read_timeout=30
    )

    def context_for(session: object) -> AuthContext:
        return AuthContext(
            session=session,  # type: ignore[arg-type]
            settings=settings,
            hasher=password_hasher(settings),
            throttle=LoginThrottle(create_storage(None), settings),
            client=ClientInfo(address="test", user_agent=None),
        )

    await demo.seed(sessionmaker, fhir, context_for)
    async with sessionmaker() as session:
        logins = {login.username: login for login in await demo.logins(session, settings)}
    await fhir.aclose()
    await engine.dispose()
    async with live_server(create_app(settings)) as base_url:
        yield DemoSite(base_url, settings, logins)


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
