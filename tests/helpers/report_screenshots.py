"""Screenshots of the reports page (English and Chinese) and the agents administration:
``python -m tests.helpers.report_screenshots``. Seeds a week of history into a throwaway
embedded database and writes PNGs to ``docs/``. Not part of the test verdict.
"""

from __future__ import annotations

import asyncio
import tempfile
from datetime import UTC, datetime, time, timedelta

from aiohttp import web
from playwright.async_api import Page, async_playwright, expect
from pymongo import AsyncMongoClient

from hub.app import create_app
from hub.cli.agents import add_agent
from hub.config.model import load_config
from hub.domain import utcnow
from storage.embedded import EmbeddedMongo
from tests.helpers.browser import CHROMIUM, CHROMIUM_ARGS, PASSWORD, log_in
from tests.helpers.report_seed import seed_reports
from tests.helpers.screenshots import DOCS

PANELS = ("conversations", "response-times", "bot", "ratings", "agents", "moderation")


async def _seed(uri: str, db_name: str) -> None:
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(uri, tz_aware=True)
    today = datetime.combine(utcnow().date(), time(), tzinfo=UTC)
    for back in range(7):
        for copy in range(1 + (back * 5) % 4):
            await seed_reports(client[db_name], today - timedelta(days=back), f"d{back}x{copy}-")
    await client.close()


async def _reports(page: Page, base: str, lang: str, name: str) -> None:
    await page.evaluate(f"localStorage.setItem('chorus.lang', '{lang}')")
    await page.goto(f"{base}/inbox/#/reports")
    await page.reload()
    for panel in PANELS:
        await expect(page.locator(f"#report-{panel}")).to_have_attribute("aria-busy", "false")
    height = await page.evaluate("document.querySelector('.reports').scrollHeight + 60")
    await page.set_viewport_size({"width": 1280, "height": height})
    await page.screenshot(path=str(DOCS / name))
    await page.set_viewport_size({"width": 1280, "height": 900})
    print(f"docs/{name}")


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        mongo = EmbeddedMongo(":memory:")
        await mongo.astart(60)
        config = load_config(
            None,
            environ={
                "CHORUS_MONGO__URI": mongo.uri,
                "CHORUS_AUTH__JWT_SECRET": "screenshot-secret-" + "x" * 32,
                "CHORUS_AUTH__JWT_SECRET_FILE": f"{tmp}/jwt",
            },
        )
        config.bot.enabled = False
        await add_agent(config, "bo@example.org", "Bo Jensen", "admin", PASSWORD, None)
        await add_agent(config, "alice@example.org", "Alice", "agent", PASSWORD, None)
        await _seed(mongo.uri, config.mongo.database)
        app = create_app(config)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        base = f"http://127.0.0.1:{port}"
        try:
            async with async_playwright() as pw:
                browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = await browser.new_page(viewport={"width": 1280, "height": 900})
                await log_in(page, base, "bo@example.org", PASSWORD)
                await expect(page.locator("#live-state")).to_have_text("● live")
                await _reports(page, base, "en", "reports-en.png")
                await _reports(page, base, "zh-CN", "reports-zh.png")
                await page.evaluate("localStorage.setItem('chorus.lang', 'en')")
                await page.goto(f"{base}/inbox/#/admin/agents")
                await page.reload()
                await expect(page.locator('tr[data-agent="alice"]')).to_be_visible()
                await page.screenshot(path=str(DOCS / "admin-agents.png"))
                print("docs/admin-agents.png")
                await browser.close()
        finally:
            await runner.cleanup()
            await mongo.astop()


if __name__ == "__main__":
    asyncio.run(main())
