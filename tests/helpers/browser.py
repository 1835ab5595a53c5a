"""Browser fixtures: the hub on loopback, Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from hub.cli.agents import add_agent

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
MISSING_CHROMIUM = (
    f"{CHROMIUM} is missing: install the chromium package with "
    "sudo apt-get install --no-install-recommends chromium"
)
PASSWORD = "s3cret-pass-phrase"

expect.set_options(timeout=10_000)


@pytest.fixture
async def browser(client: Any) -> AsyncIterator[Browser]:
    """Chromium, closed before the hub stops so no open socket holds the shutdown."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(MISSING_CHROMIUM, pytrace=False)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


@pytest.fixture
async def hub_url(client: Any) -> str:
    """The hub under test, served on 127.0.0.1 by aiohttp's test server."""
    return str(client.make_url("")).rstrip("/")


@pytest.fixture
async def agent(config: Any, hub_url: str) -> dict[str, str]:
    created = await add_agent(config, "bo@example.org", "Bo", "admin", PASSWORD, None)
    return {"id": created.id, "email": "bo@example.org", "password": PASSWORD}


async def log_in(page: Page, hub_url: str, email: str, password: str) -> None:
    await page.goto(f"{hub_url}/inbox/")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Log in").click()
