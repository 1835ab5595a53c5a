"""The widget and the inbox in Simplified Chinese, the widget's looks from config or its
script tag, a phone-sized panel, and the widget driven by the keyboard alone."""

from __future__ import annotations

import re
from pathlib import Path

from aiohttp import web
from playwright.async_api import Browser, expect

from adapters.web.config import BusinessHours, WidgetSettings
from hub.app import create_app
from tests.helpers.browser import PASSWORD
from tests.helpers.presence import agent_online

CUSTOM_PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"></head><body>
<script src="/widget.js" data-title="户外用品客服" data-position="left"
  data-greeting="您好！有什么可以帮您？" data-color="#aa3300" defer></script></body></html>"""


README = Path(__file__).resolve().parents[3] / "README.md"


def readme_widget_tag() -> str:
    """The README's script tag with data- attributes, pointed at the hub under test."""
    blocks = re.findall(r"```html\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    tag = next(b for b in blocks if "data-title" in b)
    return tag.replace("https://your-hub.example/widget.js", "/widget.js")


def _page(html: str):
    async def serve(request: web.Request) -> web.Response:
        return web.Response(text=html, content_type="text/html")

    return serve


_shop = _page(CUSTOM_PAGE)


async def test_the_widget_follows_the_page_language_and_its_script_tag(
    browser: Browser, aiohttp_client, config
) -> None:
    app = create_app(config)
    app.router.add_get("/shop", _shop)  # a customer's page, served from the hub's origin
    client = await aiohttp_client(app)
    async with agent_online(client):
        page = await browser.new_page()
        await page.goto(str(client.make_url("/shop")))
        await page.get_by_role("button", name="打开聊天").click()
        await expect(page.locator(".cw-head")).to_contain_text("户外用品客服")
        await expect(page.locator(".cw-state")).to_have_text("在线")
        await expect(page.get_by_placeholder("输入消息…")).to_be_focused()
        await expect(page.locator(".cw-greeting")).to_have_text("您好！有什么可以帮您？")
        box = page.locator(".cw-box")
        assert await box.evaluate("e => getComputedStyle(e).left") == "20px"
        head = page.locator(".cw-head")
        assert await head.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(170, 51, 0)"
        font = await box.evaluate("e => getComputedStyle(e).fontFamily")
        assert font.startswith('"PingFang SC"') and "Noto Sans CJK SC" in font
        await page.get_by_label("您的消息").fill("帐篷杆断了")
        await page.get_by_role("button", name="发送").click()
        # What people write is never translated, nor is a message that happens to be a label.
        await page.get_by_label("您的消息").fill("Send")
        await page.get_by_role("button", name="发送").click()
        await expect(page.locator(".cw-msg.cw-me")).to_have_text(["帐篷杆断了", "Send"])


async def test_the_readme_script_tag_sets_title_colour_greeting_position_language(
    browser: Browser, aiohttp_client, config
) -> None:
    app = create_app(config)
    html = f'<!doctype html><html lang="en"><head><meta charset="utf-8"></head><body>{readme_widget_tag()}</body></html>'
    app.router.add_get("/readme", _page(html))
    client = await aiohttp_client(app)
    page = await browser.new_page()
    await page.goto(str(client.make_url("/readme")))
    await page.get_by_role("button", name="打开聊天").click()  # data-lang beats the page's
    await expect(page.locator(".cw-head")).to_contain_text("Acme help")
    await expect(page.locator(".cw-greeting")).to_have_text("Hi! How can we help?")
    assert await page.locator(".cw-box").evaluate("e => getComputedStyle(e).left") == "20px"
    colour = await page.locator(".cw-head").evaluate("e => getComputedStyle(e).backgroundColor")
    assert colour == "rgb(170, 51, 0)"


async def test_hub_settings_choose_the_language_and_looks(
    browser: Browser, make_client, config
) -> None:
    cfg = config.model_copy(deep=True)
    cfg.web.widget.language = "zh-CN"
    cfg.web.widget.title = "Acme help"
    client = await make_client(cfg)
    resp = await client.get("/api/v1/widget/config")
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert (await resp.json())["language"] == "zh-CN"
    page = await browser.new_page()
    await page.goto(str(client.make_url("/widget/demo")))  # the page says lang="en"
    await page.get_by_role("button", name="打开聊天").click()
    await expect(page.locator(".cw-head")).to_contain_text("Acme help")
    await expect(page.get_by_role("button", name="发送")).to_be_visible()


async def test_a_phone_gets_a_full_screen_panel_usable_by_keyboard_alone(
    browser: Browser, client, hub_url
) -> None:
    context = await browser.new_context(viewport={"width": 360, "height": 640})
    page = await context.new_page()
    async with agent_online(client):
        await page.goto(f"{hub_url}/widget/demo")
        await expect(page.locator(".cw-state")).to_have_text("online")
        opener = page.get_by_role("button", name="Open chat")
        for _ in range(3):  # past the page's own focusable parts (its scrollable snippet)
            await page.keyboard.press("Tab")
            if await opener.evaluate("e => e === document.activeElement"):
                break
        await expect(opener).to_be_focused()
        await page.keyboard.press("Enter")
        await expect(page.get_by_label("Your message")).to_be_focused()
        panel = await page.get_by_role("dialog", name="Chat with us").bounding_box()
        assert panel == {"x": 0, "y": 0, "width": 360, "height": 640}
        await page.keyboard.type("Typed without a mouse")
        await page.keyboard.press("Enter")
        await expect(page.locator(".cw-msg.cw-me")).to_have_text(["Typed without a mouse"])
        await expect(page.locator(".cw-msg.cw-pending")).to_have_count(0)
        await page.keyboard.press("Escape")
        await expect(page.get_by_role("dialog")).to_be_hidden()
        await expect(page.get_by_role("button", name="Open chat")).to_be_focused()
        await context.close()


async def test_the_inbox_speaks_the_browsers_chinese_and_can_be_switched(
    browser: Browser, hub_url, agent
) -> None:
    context = await browser.new_context(locale="zh-CN")
    page = await context.new_page()
    await page.goto(f"{hub_url}/inbox/")
    await expect(page.get_by_role("heading", name="Chorus 收件箱")).to_be_visible()
    await page.get_by_label("邮箱").fill(agent["email"])
    await page.get_by_label("密码").fill(PASSWORD)
    await page.get_by_role("button", name="登录").click()
    await expect(page.get_by_role("tab", name="全部")).to_be_visible()
    await expect(page.get_by_text("这里没有会话。")).to_be_visible()
    await expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    await page.get_by_label("语言").select_option("en")
    await expect(page.get_by_role("tab", name="All")).to_be_visible()
    await context.close()


async def test_outside_business_hours_the_widget_offers_the_offline_form(
    browser: Browser, make_client, config, db
) -> None:
    cfg = config.model_copy(deep=True)
    cfg.web.widget = WidgetSettings(hours=BusinessHours(days=[]))  # never open
    client = await make_client(cfg)
    async with agent_online(client):  # someone is connected, but it is after hours
        page = await browser.new_page()
        await page.goto(str(client.make_url("/widget/demo")))
        await page.get_by_role("button", name="Open chat").click()
        await expect(page.get_by_text("We're away right now.")).to_be_visible()
        await page.get_by_label("Your message").fill("Do you ship to Norway?")
        await page.get_by_role("button", name="Send").click()  # name and email are required
        await expect(page.locator(".cw-msg.cw-me")).to_have_count(0)
        await page.get_by_label("Your name").fill("Ingrid")
        await page.get_by_label("Your email").fill("ingrid@example.org")
        await page.get_by_role("button", name="Send").click()
        await expect(page.get_by_text("Thanks! We'll answer by email.")).to_be_visible()
        await expect(page.locator(".cw-msg.cw-me")).to_have_text(["Do you ship to Norway?"])
        await expect(page.locator(".cw-msg.cw-pending")).to_have_count(0)
    contact = await db.contacts.find_one({"email": "ingrid@example.org"})
    assert contact is not None and contact["name"] == "Ingrid"
    message = await db.messages.find_one({"text": "Do you ship to Norway?"})
    assert message["contact_id"] == contact["_id"]
