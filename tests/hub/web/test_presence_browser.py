"""Typing and read receipts in a real Chromium: shown live, expiring, kept over a reload."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from tests.helpers.browser import log_in

# Longer than the indicator's own life (hub.runtime.presence.TYPING_SECONDS).
EXPIRES_WITHIN_MS = 15_000


async def test_typing_and_seen_appear_expire_and_unread_survives_a_reload(
    browser: Browser, hub_url, agent
) -> None:
    inbox = await browser.new_page()
    await log_in(inbox, hub_url, agent["email"], agent["password"])
    await expect(inbox.locator("#live-state")).to_have_text("● live")
    widget = await browser.new_page()
    await widget.goto(f"{hub_url}/widget/demo")
    await widget.get_by_role("button", name="Open chat").click()
    await widget.get_by_label("Your message").fill("My tent pole snapped")
    await widget.get_by_role("button", name="Send").click()
    await inbox.locator(".conversation a").first.click()
    await expect(inbox.locator(".thread .msg-inbound .text")).to_have_text(["My tent pole snapped"])

    # The customer types: the inbox says so, and the note goes away by itself.
    await widget.get_by_label("Your message").fill("It is the")
    typing = inbox.locator(".typing")
    await expect(typing).to_have_text("Customer is typing…")
    await expect(typing).to_be_hidden(timeout=EXPIRES_WITHIN_MS)

    # The agent types: the widget says so until it expires, or the reply arrives.
    await inbox.get_by_label("Reply").fill("A new pole")
    agent_typing = widget.locator(".cw-typing")
    await expect(agent_typing).to_have_text("Bo is typing…")
    await expect(agent_typing).to_be_hidden(timeout=EXPIRES_WITHIN_MS)
    await inbox.get_by_label("Reply").fill("A new pole is on its way.")
    await expect(agent_typing).to_be_visible()
    await inbox.get_by_role("button", name="Send").click()
    await expect(widget.locator(".cw-msg:not(.cw-me)")).to_have_text(["A new pole is on its way."])
    await expect(agent_typing).to_be_hidden()

    # The widget was open on a visible page: the reply is marked seen, and stays so.
    await expect(inbox.locator(".msg-outbound .seen")).to_have_text("Seen")
    await inbox.reload()
    await expect(inbox.locator(".msg-outbound .seen")).to_have_text("Seen")

    # Unread: the agent is elsewhere when the customer writes; a reload keeps the count.
    await inbox.goto(f"{hub_url}/inbox/#/")
    await expect(inbox.locator("#live-state")).to_have_text("● live")
    await widget.get_by_label("Your message").fill("Thanks!")
    await widget.get_by_role("button", name="Send").click()
    row = inbox.locator(".conversation").first
    await expect(row.locator(".unread")).to_have_text("1")
    await inbox.reload()
    await expect(row.locator(".unread")).to_have_text("1")
    await expect(inbox).to_have_title("(1) Chorus inbox")
    await row.get_by_role("link").click()
    await expect(row.locator(".unread")).to_have_count(0)
    await expect(inbox).to_have_title("Chorus inbox")
    await inbox.reload()
    await inbox.goto(f"{hub_url}/inbox/#/")
    await expect(inbox.locator(".conversation .preview")).to_have_text(["Thanks!"])
    await expect(inbox.locator(".conversation .unread")).to_have_count(0)
