"""Agent alerts in a real Chromium with the notification permission granted: a new
conversation and an assignment to me notify and sound; both switch off."""

from __future__ import annotations

from playwright.async_api import Browser, Page, expect

from tests.helpers.browser import log_in
from tests.helpers.hub import bearer, wait_for

# Records what the page shows without replacing it: the real Notification still runs.
RECORD_ALERTS = """
window.__notes = [];
window.__tones = 0;
const RealNotification = window.Notification;
window.Notification = class extends RealNotification {
  constructor(title, options) { super(title, options); window.__notes.push([title, options.body]); }
};
const realOscillator = AudioContext.prototype.createOscillator;
AudioContext.prototype.createOscillator = function () { window.__tones += 1; return realOscillator.call(this); };
"""


async def _customer_writes(browser: Browser, hub_url: str, text: str) -> None:
    widget = await browser.new_page()
    await widget.goto(f"{hub_url}/widget/demo")
    await widget.get_by_role("button", name="Open chat").click()
    await widget.get_by_label("Your message").fill(text)
    await widget.get_by_role("button", name="Send").click()
    await expect(widget.locator(".cw-msg.cw-pending")).to_have_count(0)
    await widget.close()


async def _alerts(page: Page) -> tuple[list[list[str]], int]:
    notes, tones = await page.evaluate("[window.__notes, window.__tones]")
    return notes, tones


async def test_new_and_assigned_conversations_alert_until_switched_off(
    browser: Browser, client, hub_url, agent
) -> None:
    context = await browser.new_context()
    await context.grant_permissions(["notifications"], origin=hub_url)
    await context.add_init_script(RECORD_ALERTS)
    inbox = await context.new_page()
    await log_in(inbox, hub_url, agent["email"], agent["password"])
    await expect(inbox.locator("#live-state")).to_have_text("● live")
    assert await inbox.evaluate("Notification.permission") == "granted"

    await _customer_writes(browser, hub_url, "My order is late")
    await expect(inbox.locator(".conversation")).to_have_count(1)
    await _notes_count(inbox, 1)
    assert await _alerts(inbox) == ([["New conversation", "My order is late"]], 1)

    conversation_id = await inbox.locator(".conversation").first.get_attribute("data-id")
    resp = await client.post(
        f"/api/v1/conversations/{conversation_id}/assign",
        json={"agent_id": agent["id"]},
        headers=bearer(client, "ann", role="admin"),
    )
    assert resp.status == 200
    await _notes_count(inbox, 2)
    notes, tones = await _alerts(inbox)
    assert notes[1][0] == "Conversation assigned to you" and tones == 2

    await inbox.get_by_label("Desktop alerts").uncheck()
    await inbox.get_by_label("Sound").uncheck()
    await inbox.reload()  # the switches are kept
    await expect(inbox.get_by_label("Desktop alerts")).not_to_be_checked()
    await expect(inbox.locator("#live-state")).to_have_text("● live")  # the feed is back
    await _customer_writes(browser, hub_url, "Another question")
    await expect(inbox.locator(".conversation")).to_have_count(2)
    assert await _alerts(inbox) == ([], 0)  # the reload reset the recorder; nothing since
    await context.close()


async def _notes_count(inbox: Page, count: int) -> None:
    """Until the page recorded ``count`` alerts (polled through the debugging protocol:
    the inbox's CSP rightly refuses the string predicates ``wait_for_function`` sends)."""

    async def reached() -> bool:
        return bool(await inbox.evaluate("window.__notes.length") == count)

    await wait_for(reached)
