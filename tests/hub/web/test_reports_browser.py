"""The reports page over a seeded day: the numbers on screen are the API's, CSV downloads."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Page, expect

from hub.domain import utcnow
from tests.helpers.browser import log_in
from tests.helpers.hub import bearer
from tests.helpers.report_seed import seed_reports


async def _open_reports(browser: Browser, hub_url: str, agent: Any, db: Any) -> Page:
    await seed_reports(db, datetime.combine(utcnow().date(), time(), tzinfo=UTC))
    page = await browser.new_page(accept_downloads=True)
    await log_in(page, hub_url, agent["email"], agent["password"])
    await page.get_by_role("link", name="Reports").click()
    await page.locator("#report-range").select_option("today")
    await page.get_by_role("button", name="Show").click()
    for panel in ("conversations", "response-times", "bot", "ratings", "agents", "moderation"):
        await expect(page.locator(f"#report-{panel}")).to_have_attribute("aria-busy", "false")
    return page


async def _cells(page: Page, table: str) -> list[list[str]]:
    rows = page.locator(f'table[data-table="{table}"] tbody tr')
    return [await row.locator("td").all_text_contents() for row in await rows.all()]


def _js(value: Any) -> str:
    """A JSON value as the page prints it (JavaScript writes 3.0 as "3")."""
    if value is None:
        return "—"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _as_text(rows: list[dict[str, Any]]) -> list[list[str]]:
    return [[_js(v) for v in row.values()] for row in rows]


def _assert_same_queue(on_screen: list[list[str]], rows: list[dict[str, Any]], opened: Any) -> None:
    """The queue's ages grow with the clock: the page's (asked first) are the API's less at
    most the seconds since the page was opened."""
    [screen], [api] = on_screen, rows
    assert screen[0] == str(api["pending"]) == "3"
    slack = round((utcnow() - opened).total_seconds()) + 1
    for cell, seconds in zip(
        screen[1:], (api["oldest_age_seconds"], api["median_age_seconds"]), strict=True
    ):
        assert seconds - slack <= int(cell) <= seconds, (cell, seconds)


async def test_every_panel_shows_the_api_numbers(
    browser: Browser, hub_url, agent, client, db
) -> None:
    opened = utcnow()
    page = await _open_reports(browser, hub_url, agent, db)
    admin = bearer(client, "root", role="admin")
    for path in ("conversations", "response-times", "bot", "ratings", "agents", "moderation"):
        resp = await client.get(f"/api/v1/reports/{path}", params={"range": "today"}, headers=admin)
        tables = (await resp.json())["tables"]
        for name, rows in tables.items():
            if path == "agents":  # the agents table lists everyone, the page's admin too
                rows = [r for r in rows if r["agent"] in ("alice", "bob")]
                on_screen = [
                    r for r in await _cells(page, f"{path}.{name}") if r[0] in ("alice", "bob")
                ]
            else:
                on_screen = await _cells(page, f"{path}.{name}")
            if (path, name) == ("moderation", "queue"):
                _assert_same_queue(on_screen, rows, opened)
                continue
            assert on_screen == _as_text(rows), (path, name)
        charts = page.locator(f"#report-{path} svg[role=img]")
        assert await charts.count() == (
            0
            if path == "agents"
            else 1
            if path == "conversations" or path == "moderation"
            else 3
            if path == "bot"
            else 2
        )
    unanswered = page.locator('table[data-table="bot.unanswered"]')
    await expect(unanswered).to_be_hidden()  # a closed "Table" disclosure under the charts
    await page.locator("#report-bot summary", has_text="unanswered").click()
    await expect(unanswered.locator("td").first).to_have_text("do you ship to mars?")
    await page.locator("#report-bot summary", has_text="webhook failures").click()
    failures = page.locator('table[data-table="bot.webhook_failures"] tbody tr')
    await expect(failures).to_have_count(2)
    chart = page.locator('#report-bot svg[aria-label="External bot webhook failures"]')
    await expect(chart).to_have_count(1)


async def test_a_panel_downloads_its_table_as_csv(
    browser: Browser, hub_url, agent, client, db
) -> None:
    page = await _open_reports(browser, hub_url, agent, db)
    async with page.expect_download() as info:
        await page.locator('[data-csv="moderation.days"]').click()
    download = await info.value
    saved = (await asyncio.to_thread(Path(await download.path()).read_bytes)).decode()
    admin = bearer(client, "root", role="admin")
    resp = await client.get(
        "/api/v1/reports/moderation",
        params={"range": "today", "format": "csv", "table": "days"},
        headers=admin,
    )
    assert saved == await resp.text()
    assert saved.splitlines()[1].endswith(",2,3,1")


async def test_the_page_reads_in_chinese(browser: Browser, hub_url, agent, db) -> None:
    page = await _open_reports(browser, hub_url, agent, db)
    await page.get_by_role("button", name="中文").click()
    await expect(page.locator("#h-report-response-times")).to_have_text("响应时间")
    await expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    await page.get_by_role("button", name="English").click()
    await expect(page.locator("#h-report-response-times")).to_have_text("Response times")
