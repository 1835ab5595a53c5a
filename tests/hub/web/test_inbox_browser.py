"""The agents' web inbox and the customer widget, driven in a real Chromium."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from hub.cli.agents import add_agent
from hub.state import HUB
from tests.helpers.browser import PASSWORD, log_in


async def test_wrong_password_shows_an_error(browser: Browser, hub_url, agent) -> None:
    page = await browser.new_page()
    await log_in(page, hub_url, agent["email"], "not-the-password")
    await expect(page.get_by_role("alert")).to_have_text("Wrong email or password.")
    await expect(page.get_by_label("Password")).to_be_focused()


async def test_widget_message_appears_live_and_the_reply_reaches_the_widget(
    browser: Browser, hub_url, agent
) -> None:
    inbox = await browser.new_page()
    await log_in(inbox, hub_url, agent["email"], agent["password"])
    await expect(inbox.locator("#live-state")).to_have_text("● live")
    await expect(inbox.get_by_text("No conversations here.")).to_be_visible()

    widget = await browser.new_page()
    await widget.goto(f"{hub_url}/widget/demo")
    await widget.get_by_role("button", name="Open chat").click()
    await widget.get_by_label("Your message").fill("My tent pole snapped")
    await widget.get_by_role("button", name="Send").click()

    row = inbox.locator(".conversation").first
    await expect(row.locator(".preview")).to_have_text("My tent pole snapped")
    await expect(row.locator(".unread")).to_have_text("1")
    await row.get_by_role("link").click()
    await expect(inbox.locator(".thread .msg-inbound .text")).to_have_text(["My tent pole snapped"])
    await expect(row.locator(".unread")).to_have_count(0)

    await inbox.get_by_label("Reply").fill("A new pole is on its way.")
    await inbox.get_by_role("button", name="Send").click()
    await expect(inbox.locator(".thread .msg-outbound .text")).to_have_text(
        ["A new pole is on its way."]
    )
    await expect(widget.locator(".cw-msg:not(.cw-me)")).to_have_text(["A new pole is on its way."])
    await expect(widget.locator(".cw-msg.cw-pending")).to_have_count(0)

    # A returning visitor resumes with the stored token and sees the thread again.
    await widget.reload()
    await widget.get_by_role("button", name="Open chat").click()
    await expect(widget.locator(".cw-msg")).to_have_text(
        ["My tent pole snapped", "A new pole is on its way."]
    )


async def test_claim_and_resolve(browser: Browser, client, hub_url, agent) -> None:
    async with client.ws_connect("/chat") as ws:
        await ws.send_json({"type": "message", "text": "Refund please", "client_id": "c1"})
        while (await ws.receive_json(timeout=10))["type"] != "ack":
            pass
    page = await browser.new_page()
    await log_in(page, hub_url, agent["email"], agent["password"])
    await page.get_by_role("tab", name="Unassigned").click()
    await page.locator(".conversation a").first.click()
    await expect(page.locator("#conv-assignee")).to_have_text("Unassigned")

    await page.get_by_role("button", name="Claim").click()
    await expect(page.locator("#conv-assignee")).to_have_text(f"Assigned to {agent['id']}")
    await expect(page.locator(".conversation")).to_have_count(0)  # left the Unassigned tab
    await page.get_by_role("tab", name="Mine").click()
    await expect(page.locator(".conversation .preview")).to_have_text(["Refund please"])

    await page.get_by_role("button", name="Resolve").click()
    await expect(page.locator("#conv-status")).to_have_text("resolved")
    await page.get_by_role("tab", name="Resolved").click()
    await expect(page.locator(".conversation .status")).to_have_text(["resolved"])


async def test_approve_a_held_comment(browser: Browser, client, hub_url, agent) -> None:
    resp = await client.post("/comment", json={"comment": "Support was a total scam today"})
    assert (await resp.json())["moderation"] == "held"
    page = await browser.new_page()
    await log_in(page, hub_url, agent["email"], agent["password"])
    await page.get_by_role("link", name="Moderation").click()
    held = page.locator(".held")
    await expect(held.locator("blockquote")).to_have_text(["Support was a total scam today"])
    await expect(held.locator(".reason")).to_have_text("words: watched_word")
    await held.get_by_label("Reason").fill("fair criticism")
    await held.get_by_role("button", name="Approve").click()
    await expect(held).to_have_text("Approved")
    resp = await client.get("/comments")
    assert [c["comment"] for c in (await resp.json())["comments"]] == [
        "Support was a total scam today"
    ]


async def _customer_says(client, text: str) -> str:
    async with client.ws_connect("/chat") as ws:
        await ws.send_json({"type": "message", "text": text, "client_id": "c1"})
        while (frame := await ws.receive_json(timeout=10))["type"] != "ack":
            pass
    message = await client.app[HUB].store.get_message(frame["id"])
    return message.conversation_id


async def test_labels_filter_assign_and_sla_badge(
    browser: Browser, client, config, hub_url, agent
) -> None:
    ann = await add_agent(config, "ann@example.org", "Ann", "agent", PASSWORD, None)
    late = await _customer_says(client, "Where is my order?")
    await _customer_says(client, "Do you ship to Norway?")
    page = await browser.new_page()
    await log_in(page, hub_url, agent["email"], agent["password"])
    rows = page.locator(".conversation")
    await expect(rows).to_have_count(2)
    await page.locator(f'.conversation[data-id="{late}"] a').click()

    await page.get_by_label("Add label").fill("vip")
    await page.get_by_label("Add label").press("Enter")
    await expect(page.locator(".conv-labels .label")).to_have_text(["vip×"])
    await page.get_by_label("Label", exact=True).select_option("vip")
    await expect(rows.locator(".preview")).to_have_text(["Where is my order?"])

    await page.get_by_label("Assign to").select_option(label="Ann")
    await expect(page.locator("#conv-assignee")).to_have_text(f"Assigned to {ann.id}")

    # The router raises priority once the SLA has passed; the badge follows it live.
    await client.app[HUB].update_conversation(late, {"priority": 2}, reason="sla")
    await expect(rows.locator(".sla")).to_have_text(["SLA missed ×2"])
    await expect(page.locator(".detail-head .sla")).to_have_text("SLA missed ×2")

    await page.get_by_role("button", name="Remove label vip").click()
    await expect(page.locator(".conv-labels .label")).to_have_count(0)
    await page.get_by_label("Label", exact=True).select_option("")
    await expect(rows).to_have_count(2)
    stored = await client.app[HUB].store.get_conversation(late)
    assert stored.labels == () and stored.assignee == ann.id
