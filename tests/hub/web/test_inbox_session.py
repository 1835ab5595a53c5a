"""The inbox page keeps its live feed across token expiry, and leaves when the session ends."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from hub.config.model import ChorusConfig
from tests.helpers.browser import log_in

ACCESS_TTL = 10  # the shortest access token lifetime the configuration accepts


@pytest.fixture
def config(config: ChorusConfig) -> ChorusConfig:
    config.auth.access_ttl_seconds = ACCESS_TTL
    return config


async def _live_inbox(browser: Browser, hub_url: str, agent: dict[str, str]) -> Page:
    page = await browser.new_page()
    await log_in(page, hub_url, agent["email"], agent["password"])
    await expect(page.locator("#live-state")).to_have_text("● live")
    return page


async def test_expired_socket_is_reauthenticated_and_stays_live(
    browser: Browser, client: Any, hub_url: str, agent: dict[str, str]
) -> None:
    inbox = await _live_inbox(browser, hub_url, agent)
    # At exp the hub closes the socket (4401); the page refreshes its token and reconnects.
    async with inbox.expect_request("**/api/v1/auth/refresh", timeout=3 * ACCESS_TTL * 1000):
        pass
    await expect(inbox.locator("#live-state")).to_have_text("● live")
    async with client.ws_connect("/chat") as customer:
        await customer.send_json({"type": "message", "text": "after the refresh", "client_id": "1"})
        await expect(inbox.locator(".conversation .preview")).to_have_text("after the refresh")


async def test_revoked_session_sends_the_page_back_to_login(
    browser: Browser, client: Any, hub_url: str, agent: dict[str, str]
) -> None:
    inbox = await _live_inbox(browser, hub_url, agent)
    refresh = await inbox.evaluate("JSON.parse(sessionStorage.getItem('chorus.session')).refresh")
    resp = await client.post("/api/v1/auth/logout", json={"refresh_token": refresh})
    assert resp.status == 204
    await expect(inbox.get_by_role("button", name="Log in")).to_be_visible()
