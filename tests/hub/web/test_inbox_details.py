"""Details of the inbox an agent notices: previews, the contact panel, favicon, CJK text."""

from __future__ import annotations

from playwright.async_api import Browser, Response, expect

from hub.cli.agents import add_agent
from tests.helpers.browser import PASSWORD, log_in
from tests.helpers.hub import bearer

LONG = "我的帐篷杆断了。" + "The pole of my tent snapped on the first night out. " * 6
CJK_FONTS = ('"PingFang SC"', '"Noto Sans CJK SC"', '"Microsoft YaHei"')


async def _customer_says(client, name: str, text: str) -> str:
    async with client.ws_connect("/chat") as ws:
        await ws.send_json({"type": "hello", "name": name})
        while (await ws.receive_json(timeout=10))["type"] != "welcome":
            pass
        await ws.send_json({"type": "message", "text": text, "client_id": "c1"})
        while (frame := await ws.receive_json(timeout=10))["type"] != "ack":
            pass
    resp = await client.get(f"/api/v1/messages/{frame['id']}", headers=bearer(client))
    return str((await resp.json())["contact_id"])


async def test_an_agent_sees_a_clipped_preview_and_the_contact_name(
    browser: Browser, client, config, hub_url
) -> None:
    await add_agent(config, "ann@example.org", "Ann", "agent", PASSWORD, None)
    contact_id = await _customer_says(client, "Ada Lovelace", LONG)
    page = await browser.new_page()
    refused: list[str] = []

    def on_response(response: Response) -> None:
        if response.status >= 400:
            refused.append(f"{response.status} {response.url}")

    page.on("response", on_response)
    await log_in(page, hub_url, "ann@example.org", PASSWORD)

    preview = page.locator(".conversation .preview")
    await expect(preview).to_have_count(1)
    box = await preview.evaluate(
        """el => ({scroll: el.scrollWidth, client: el.clientWidth,
                   right: el.getBoundingClientRect().right,
                   list: el.closest(".conversations").getBoundingClientRect().right,
                   overflow: getComputedStyle(el).textOverflow})"""
    )
    # The preview itself cuts the text (so its ellipsis shows), inside the list.
    assert box["overflow"] == "ellipsis"
    assert box["scroll"] > box["client"], box
    assert box["right"] <= box["list"], box

    await page.locator(".conversation a").first.click()
    await expect(page.locator(".contact .contact-name")).to_have_text("Ada Lovelace")
    await expect(page.locator(".thread .msg .text")).to_have_text([LONG])
    await expect(page.locator(".contact")).not_to_contain_text(contact_id)
    assert refused == []  # no 403 from the admin-only contact endpoint, no missing favicon


async def test_favicon_and_a_cjk_font_fallback(browser: Browser, client, hub_url) -> None:
    page = await browser.new_page()
    for path in ("/inbox/", "/widget/demo"):
        await page.goto(hub_url + path)
        href = await page.locator('link[rel="icon"]').get_attribute("href")
        assert href is not None
        resp = await client.get(href)
        assert resp.status == 200 and resp.content_type == "image/svg+xml"
    await page.goto(hub_url + "/inbox/")
    fonts = await page.evaluate("getComputedStyle(document.body).fontFamily")
    assert all(font in fonts for font in CJK_FONTS), fonts
    await page.goto(hub_url + "/widget/demo")
    await page.get_by_role("button", name="Open chat").click()
    box_fonts = await page.locator(".cw-box").evaluate("el => getComputedStyle(el).fontFamily")
    assert all(font in box_fonts for font in CJK_FONTS), box_fonts
