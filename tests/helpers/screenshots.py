"""Screenshots of the inbox and the widget for the README: ``python -m tests.helpers.screenshots``.

Starts a hub on loopback with a throwaway embedded database, seeds a few conversations,
and writes PNGs to ``docs/``. Not part of the test verdict.
"""

from __future__ import annotations

import asyncio
import io
import tempfile
from pathlib import Path

from aiohttp import ClientSession, web
from PIL import Image, ImageDraw
from playwright.async_api import Browser, Page, async_playwright, expect

from hub.app import create_app
from hub.cli.agents import add_agent
from hub.config.model import load_config
from hub.core.hub import Hub
from hub.state import HUB
from storage.embedded import EmbeddedMongo
from tests.helpers.browser import CHROMIUM, CHROMIUM_ARGS, PASSWORD, log_in

DOCS = Path(__file__).resolve().parents[2] / "docs"
CUSTOMERS = [
    ("Maya", ["Hi! My tent pole snapped on the first trip.", "Can I get a replacement?"]),
    ("Tom", ["Do you ship to Norway?"]),
    ("Lena", ["The sleeping bag zipper is stuck"]),
]


async def _customer(base: str, name: str, texts: list[str]) -> None:
    async with ClientSession() as http, http.ws_connect(base.replace("http", "ws") + "/chat") as ws:
        await ws.send_json({"type": "hello", "name": name})
        for i, text in enumerate(texts):
            await ws.send_json({"type": "message", "text": text, "client_id": f"{name}-{i}"})
            while (await ws.receive_json(timeout=10))["type"] != "ack":
                pass


async def _shoot(page: Page, name: str) -> None:
    await page.screenshot(path=str(DOCS / name))
    print(f"docs/{name}")


async def main() -> None:
    DOCS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        mongo = EmbeddedMongo(":memory:")
        await mongo.astart(60)
        config = load_config(
            None,
            environ={
                "CHORUS_MONGO__URI": mongo.uri,
                "CHORUS_AUTH__JWT_SECRET": "screenshot-secret-" + "x" * 32,
                "CHORUS_AUTH__JWT_SECRET_FILE": f"{tmp}/jwt",
                "CHORUS_MEDIA__LOCAL_DIR": f"{tmp}/media",
            },
        )
        config.bot.enabled = False
        await add_agent(config, "bo@example.org", "Bo Jensen", "admin", PASSWORD, None)
        app = create_app(config)
        app.router.add_get("/shop-zh", _chinese_shop)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        base = f"http://127.0.0.1:{port}"
        try:
            for name, texts in CUSTOMERS:
                await _customer(base, name, texts)
            await _capture(base, app[HUB])
        finally:
            await runner.cleanup()
            await mongo.astop()


async def _capture(base: str, hub: Hub) -> None:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = await browser.new_page(viewport={"width": 1280, "height": 760})
        await log_in(page, base, "bo@example.org", PASSWORD)
        await expect(page.locator("#live-state")).to_have_text("● live")
        await expect(page.locator(".conversation")).to_have_count(3)
        first = page.locator(".conversation").first
        # As the router does once a conversation has waited past bot.assignment.sla_seconds.
        await hub.update_conversation(str(await first.get_attribute("data-id")), {"priority": 1})
        await expect(first.locator(".sla")).to_have_count(1)
        await _shoot(page, "inbox-list.png")
        await page.locator(".conversation a").last.click()
        await page.get_by_role("button", name="Claim").click()
        await expect(page.locator("#conv-assignee")).not_to_have_text("Unassigned")
        await page.get_by_label("Add label").fill("warranty")
        await page.get_by_label("Add label").press("Enter")
        await expect(page.locator(".conv-labels .label")).to_have_count(1)
        await page.get_by_label("Reply").fill("Sorry about that, Maya! A new pole ships today.")
        await page.get_by_role("button", name="Send").click()
        await page.get_by_label("Private note").check()
        await page.get_by_label("Reply").fill("Sent under warranty, order #4411.")
        await page.get_by_role("button", name="Send").click()
        await expect(page.locator(".msg-note")).to_have_count(1)
        await _shoot(page, "inbox-conversation.png")
        widget = await browser.new_page(viewport={"width": 900, "height": 640})
        await widget.goto(f"{base}/widget/demo")
        await widget.get_by_role("button", name="Open chat").click()
        await widget.get_by_label("Your message").fill("Is the 3-person tent waterproof?")
        await widget.get_by_role("button", name="Send").click()
        await expect(widget.locator(".cw-msg.cw-pending")).to_have_count(0)
        await _shoot(widget, "widget.png")
        await _files(widget, page)
        await _capture_widget_variants(browser, base)
        await browser.close()


def _photo() -> bytes:
    """A stand-in photo: a tent against a sky, drawn with Pillow."""
    image = Image.new("RGB", (960, 640), (118, 170, 214))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 470, 960, 640), fill=(96, 140, 72))
    draw.polygon([(250, 500), (480, 170), (710, 500)], fill=(214, 96, 40))
    draw.polygon([(440, 500), (480, 330), (520, 500)], fill=(60, 40, 30))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()


async def _files(widget: Page, inbox: Page) -> None:
    """A customer attaches a photo in the widget; the agent sees its thumbnail."""
    await widget.get_by_label("Your message").fill("This is how the pole broke:")
    await widget.get_by_role("button", name="Send").click()
    await widget.locator(".cw-form input[type=file]").set_input_files(
        {"name": "broken-pole.jpg", "mimeType": "image/jpeg", "buffer": _photo()}
    )
    await expect(widget.locator(".cw-msg.cw-me img.cw-thumb")).to_have_count(1)
    await expect(widget.locator(".cw-msg.cw-pending")).to_have_count(0)
    await _shoot(widget, "widget-files.png")
    await inbox.goto(inbox.url.split("#")[0])
    await inbox.locator(".conversation a").first.click()
    await expect(inbox.locator(".thread img.thumb")).to_have_count(1)
    await _shoot(inbox, "inbox-files.png")


CHINESE_SHOP = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<title>户外用品商店</title><link rel="stylesheet" href="/inbox/assets/demo.css"></head>
<body><main><h1>户外用品商店</h1><p>右下角的聊天按钮就是 Chorus 聊天窗口。</p></main>
<script src="/widget.js" data-greeting="您好！有什么可以帮您？" defer></script></body></html>"""


async def _chinese_shop(request: web.Request) -> web.Response:
    return web.Response(text=CHINESE_SHOP, content_type="text/html")


async def _capture_widget_variants(browser: Browser, base: str) -> None:
    """The widget in Chinese (the page's lang) and on a 360 px phone (full-screen panel)."""
    chinese = await browser.new_page(viewport={"width": 900, "height": 640})
    await chinese.goto(f"{base}/shop-zh")
    await chinese.get_by_role("button", name="打开聊天").click()
    await chinese.get_by_label("您的消息").fill("三人帐篷防水吗？")
    await chinese.get_by_role("button", name="发送").click()
    await expect(chinese.locator(".cw-msg.cw-pending")).to_have_count(0)
    await _shoot(chinese, "widget-zh.png")
    phone = await browser.new_page(viewport={"width": 360, "height": 640})
    await phone.goto(f"{base}/widget/demo")
    await phone.get_by_role("button", name="Open chat").click()
    await phone.get_by_label("Your message").fill("Do you have size 44 boots?")
    await phone.get_by_role("button", name="Send").click()
    await expect(phone.locator(".cw-msg.cw-pending")).to_have_count(0)
    await _shoot(phone, "widget-phone.png")


if __name__ == "__main__":
    asyncio.run(main())
