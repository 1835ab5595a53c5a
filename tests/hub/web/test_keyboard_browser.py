"""The inbox by keyboard alone: open, reply, resolve and find, with the list under "?"."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from tests.helpers.browser import log_in
from tests.helpers.presence import visitor_message


async def test_keyboard_only_reply_and_resolve(browser: Browser, client, hub_url, agent) -> None:
    async with client.ws_connect("/chat") as ws:
        await visitor_message(ws, "Refund please", "c1")
    page = await browser.new_page()
    await log_in(page, hub_url, agent["email"], agent["password"])
    await expect(page.locator(".conversation")).to_have_count(1)
    await page.keyboard.press("Escape")  # whatever has the focus, leave it

    await page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    await expect(dialog).to_contain_text("Next conversation")
    await expect(dialog.get_by_role("button", name="Close")).to_be_focused()
    await page.keyboard.press("Escape")
    await expect(dialog).to_have_count(0)

    await page.keyboard.press("j")
    reply = page.get_by_label("Reply")
    await expect(reply).to_be_focused()
    await page.keyboard.type("Refund sent, 3-5 days.")
    await page.keyboard.press("Control+Enter")
    await expect(page.locator(".thread .msg-outbound .text")).to_have_text(
        ["Refund sent, 3-5 days."]
    )

    await page.keyboard.press("Escape")
    await page.keyboard.press("n")
    await expect(reply).to_be_focused()
    await expect(page.get_by_label("Private note")).to_be_checked()
    await page.keyboard.type("Checked with finance")
    await page.keyboard.press("Control+Enter")
    await expect(page.locator(".thread .msg-note .text")).to_have_text(["Checked with finance"])

    await page.keyboard.press("Escape")
    await page.keyboard.press("e")
    await expect(page.locator("#conv-status")).to_have_text("resolved")
    await page.keyboard.press("/")
    await expect(page.get_by_label("Search conversations")).to_be_focused()
