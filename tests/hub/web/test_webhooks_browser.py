"""The admin page's webhook endpoints and a message's edit history, in a real Chromium."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from hub.state import HUB
from tests.helpers.browser import log_in


async def test_an_admin_creates_an_endpoint_sees_its_secret_once_and_pauses_it(
    browser: Browser, hub_url, agent
) -> None:
    page = await browser.new_page()
    await log_in(page, hub_url, agent["email"], agent["password"])
    await page.get_by_role("link", name="Admin").click()
    await page.get_by_role("link", name="Webhooks").click()
    await expect(page.get_by_text("No endpoints yet.")).to_be_visible()
    await page.get_by_label("Endpoint URL").fill("https://93.184.216.34/chorus")
    await page.get_by_label("contact.merged").uncheck()
    await page.get_by_role("button", name="Add endpoint").click()

    secret = page.get_by_label("Signing secret")
    await expect(secret).to_contain_text("whsec_")
    row = page.locator(".webhooks tbody tr").first
    await expect(row).to_contain_text("https://93.184.216.34/chorus")
    await expect(row).not_to_contain_text("contact.merged")
    await expect(row).to_contain_text("active")
    await row.get_by_role("button", name="Pause").click()
    await expect(page.locator(".webhooks tbody tr").first).to_contain_text("paused")
    await expect(page.get_by_label("Signing secret")).to_have_count(0)  # shown only once
    await expect(page.get_by_text("No dead letters.")).to_be_visible()


async def test_an_edited_message_shows_its_history_and_a_deleted_one_its_tombstone(
    browser: Browser, client, hub_url, agent, db
) -> None:
    async with client.ws_connect("/chat") as ws:
        for n, text in enumerate(["My tent pole snapped", "Also the zip"]):
            await ws.send_json({"type": "message", "text": text, "client_id": f"c{n}"})
            while (await ws.receive_json(timeout=10))["type"] != "ack":
                pass
    hub = client.app[HUB]
    first = await db.messages.find_one({"text": "My tent pole snapped"})
    second = await db.messages.find_one({"text": "Also the zip"})
    await hub.edit_message("web", first["external_id"], "My tent pole snapped in two", {})
    await hub.delete_message("web", second["external_id"])

    page = await browser.new_page()
    await log_in(page, hub_url, agent["email"], agent["password"])
    await page.get_by_role("tab", name="Unassigned").click()
    await page.locator(".conversation a").first.click()
    edited = page.locator(f'.thread [data-id="{first["_id"]}"]')
    await expect(edited.locator(".text")).to_have_text("My tent pole snapped in two")
    history = edited.get_by_role("list", name="Earlier versions")
    await expect(history).to_be_hidden()
    await edited.get_by_role("button", name="edited").click()
    await expect(history).to_be_visible()
    await expect(history.locator("q")).to_have_text(["My tent pole snapped"])

    # An edit made while the conversation is open shows at once, history included.
    await hub.edit_message("web", first["external_id"], "It snapped in three places", {})
    await expect(edited.locator(".text")).to_have_text("It snapped in three places")
    await edited.get_by_role("button", name="edited").click()
    await expect(edited.locator(".history q")).to_have_text(
        ["My tent pole snapped", "My tent pole snapped in two"]
    )

    deleted = page.locator(f'.thread [data-id="{second["_id"]}"]')
    await expect(deleted.locator(".tombstone")).to_contain_text("deleted")
    await expect(deleted).not_to_contain_text("Also the zip")
