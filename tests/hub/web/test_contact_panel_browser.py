"""The contact panel edited in a real Chromium: the name follows into the list."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from tests.helpers.browser import log_in
from tests.helpers.presence import visitor_message


async def test_an_admin_edits_the_contact_and_sees_conversations_and_ratings(
    browser: Browser, client, db, hub_url, agent
) -> None:
    async with client.ws_connect("/chat") as ws:
        ack = await visitor_message(ws, "Refund please", "c1")
    message = await db.messages.find_one({"_id": ack["id"]})
    await db.ratings.insert_one(
        {"_id": message["conversation_id"], "contact_id": message["contact_id"], "score": 5}
    )
    page = await browser.new_page()
    await log_in(page, hub_url, agent["email"], agent["password"])
    await page.locator(".conversation a").first.click()
    panel = page.get_by_role("form", name="Edit contact")
    await panel.get_by_label("Name").fill("Ingrid Berg")
    await panel.get_by_label("Email").fill("ingrid@example.org")
    await panel.get_by_label("Notes").fill("Tent bought in May")
    await panel.get_by_role("button", name="Save contact").click()
    await expect(page.locator(".conversation .who")).to_have_text(["Ingrid Berg"])
    ratings = page.get_by_role("list", name="Conversations and ratings")
    await expect(ratings.locator(".rating")).to_have_text(["★★★★★"])
    contact = await db.contacts.find_one({"_id": message["contact_id"]})
    assert (contact["name"], contact["email"], contact["notes"]) == (
        "Ingrid Berg",
        "ingrid@example.org",
        "Tent bought in May",
    )
