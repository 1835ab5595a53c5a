"""An inbox whose live feed was dropped reads the list again once it is back: what was
stored while it was away shows without a page reload."""

from __future__ import annotations

import re

from playwright.async_api import Browser, WebSocketRoute, expect

from hub.state import LIVE
from tests.helpers.browser import log_in

FEED = re.compile(r".*/inbox/ws$")


async def test_a_dropped_feed_reloads_the_list_when_it_is_back(
    browser: Browser, client, hub_url, agent
) -> None:
    down = False

    async def feed_route(ws: WebSocketRoute) -> None:
        if down:  # the hub is out of reach: the page's socket fails and it retries
            await ws.close(code=1006, reason="unreachable")
        else:
            ws.connect_to_server()

    page = await browser.new_page()
    await page.route_web_socket(FEED, feed_route)
    await log_in(page, hub_url, agent["email"], agent["password"])
    await expect(page.locator("#live-state")).to_have_text("● live")
    await expect(page.get_by_text("No conversations here.")).to_be_visible()

    down = True
    await client.app[LIVE].close_all(1013, b"reload")
    await expect(page.locator("#live-state")).to_have_text("○ reconnecting")
    # Stored while the inbox has no feed: no live frame carries it.
    async with client.ws_connect("/chat") as ws:
        await ws.send_json({"type": "message", "text": "Where is my order?", "client_id": "c1"})
        while (await ws.receive_json(timeout=10))["type"] != "ack":
            pass
    down = False

    await expect(page.locator("#live-state")).to_have_text("● live", timeout=20_000)
    await expect(page.locator(".conversation .preview")).to_have_text(["Where is my order?"])
