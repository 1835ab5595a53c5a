"""Administration in the browser: agents, the knowledge base, and what each change does."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from hub.cli.agents import add_agent
from hub.config.model import ChorusConfig
from tests.helpers.browser import PASSWORD, log_in
from tests.helpers.hub import bearer

SAMPLE_KB = Path(__file__).resolve().parents[3] / "knowledge" / "faq.yaml"


@pytest.fixture
def config(config: ChorusConfig) -> ChorusConfig:
    config.bot.enabled = True
    config.bot.knowledge_files = [SAMPLE_KB]
    config.web.agent_session_check_seconds = 0.5
    return config


async def _admin_page(browser: Browser, hub_url: str, agent: dict[str, str], tab: str) -> Page:
    page = await browser.new_page()
    await log_in(page, hub_url, agent["email"], agent["password"])
    await expect(page.locator("#live-state")).to_have_text("● live")
    await page.goto(f"{hub_url}/inbox/#/admin/{tab}")
    await expect(page.locator(f"#admin-{tab} h2").first).to_be_visible()
    return page


async def test_an_admin_adds_an_agent_who_then_logs_in(
    browser: Browser, hub_url: str, agent: dict[str, str]
) -> None:
    page = await _admin_page(browser, hub_url, agent, "agents")
    form = page.locator("#add-agent")
    await form.get_by_label("Email").fill("cy@example.org")
    await form.get_by_label("Name").fill("Cy")
    await form.get_by_label("First password").fill("short")
    await form.get_by_role("button", name="Add agent").click()
    # The refusal is shown next to the field it is about.
    await expect(page.locator("#add-agent-password-error")).to_contain_text("at least 12")
    await expect(form.get_by_label("First password")).to_have_attribute("aria-invalid", "true")
    await form.get_by_label("First password").fill(PASSWORD)
    await form.get_by_role("button", name="Add agent").click()
    await expect(page.locator('tr[data-agent="cy"]')).to_contain_text("cy@example.org")

    newcomer = await browser.new_page()
    await log_in(newcomer, hub_url, "cy@example.org", PASSWORD)
    await expect(newcomer.locator(".top .me")).to_have_text("Cy (agent)")


async def test_an_edited_answer_is_what_the_bot_says(
    browser: Browser, hub_url: str, agent: dict[str, str]
) -> None:
    page = await _admin_page(browser, hub_url, agent, "kb")
    await page.get_by_label("Try a question").fill("How long does shipping take?")
    await page.get_by_role("button", name="Try", exact=True).click()
    first = page.locator("#kb-try-result tr").nth(1)
    await expect(first).to_contain_text("shipping-time")
    await expect(first).to_contain_text("the bot answers with this")

    await page.locator('tr[data-entry="shipping-time"]').get_by_role("button", name="Edit").click()
    await (
        page.locator("#kb-form")
        .get_by_label("Answer", exact=True)
        .fill("Parcels fly over in two days.")
    )
    await page.locator("#kb-form").get_by_role("button", name="Save").click()
    await expect(page.locator('tr[data-entry="shipping-time"]')).to_contain_text("fly over")

    widget = await browser.new_page()
    await widget.goto(f"{hub_url}/widget/demo")
    await widget.get_by_role("button", name="Open chat").click()
    await widget.get_by_label("Your message").fill("How long does shipping take?")
    await widget.get_by_role("button", name="Send").click()
    await expect(widget.get_by_text("Parcels fly over in two days.")).to_be_visible()


async def test_an_admin_adds_a_chinese_entry_and_a_chinese_question_gets_it(
    browser: Browser, client: Any, hub_url: str, agent: dict[str, str]
) -> None:
    page = await _admin_page(browser, hub_url, agent, "kb")
    await page.get_by_role("button", name="Add entry").click()
    form = page.locator("#kb-form")
    await form.get_by_label("Id").fill("zh-gift-cards")
    await form.get_by_label("Questions").fill("有礼品卡吗\n可以买礼品卡吗")
    await form.get_by_label("Answer", exact=True).fill("有的，礼品卡面值 10 到 500 欧元。")
    await form.get_by_label("Links").fill("礼品卡 | https://example.com/gift")
    await form.get_by_label("Language").select_option("zh")
    await form.get_by_role("button", name="Save").click()
    row = page.locator('tr[data-entry="zh-gift-cards"]')
    await expect(row).to_contain_text("有礼品卡吗 · 可以买礼品卡吗")
    await expect(row).to_contain_text("Chinese")

    admin = bearer(client, sub="root", role="admin")
    stored = await (await client.get("/api/v1/kb/zh-gift-cards", headers=admin)).json()
    assert (stored["questions"], stored["language"], stored["links"]) == (
        ["有礼品卡吗", "可以买礼品卡吗"],
        "zh",
        [{"title": "礼品卡", "url": "https://example.com/gift"}],
    )
    # Editing keeps the language it was given.
    await row.get_by_role("button", name="Edit").click()
    await expect(form.get_by_label("Language")).to_have_value("zh")
    await form.get_by_label("Answer", exact=True).fill("有的，面值 10 到 500 欧元。")
    await form.get_by_role("button", name="Save").click()
    await expect(row).to_contain_text("面值 10 到 500")
    stored = await (await client.get("/api/v1/kb/zh-gift-cards", headers=admin)).json()
    assert stored["language"] == "zh"

    widget = await browser.new_page()
    await widget.goto(f"{hub_url}/widget/demo")
    await widget.get_by_role("button", name="Open chat").click()
    await widget.get_by_label("Your message").fill("可以买礼品卡吗？")
    await widget.get_by_role("button", name="Send").click()
    await expect(widget.get_by_text("有的，面值 10 到 500 欧元。")).to_be_visible()


async def test_a_disabled_agents_open_inbox_is_logged_out(
    browser: Browser, hub_url: str, agent: dict[str, str], config: Any
) -> None:
    await add_agent(config, "di@example.org", "Di", "agent", PASSWORD, None)
    theirs = await browser.new_page()
    await log_in(theirs, hub_url, "di@example.org", PASSWORD)
    await expect(theirs.locator("#live-state")).to_have_text("● live")

    page = await _admin_page(browser, hub_url, agent, "agents")
    row = page.locator('tr[data-agent="di"]')
    await row.get_by_role("button", name="Disable").click()
    await expect(row.get_by_role("button", name="Enable")).to_be_visible()
    await expect(theirs.get_by_role("button", name="Log in")).to_be_visible()
    await log_in(theirs, hub_url, "di@example.org", PASSWORD)
    await expect(theirs.get_by_role("alert")).to_have_text("Wrong email or password.")

    await row.get_by_role("button", name="Enable").click()
    await expect(row.get_by_role("button", name="Disable")).to_be_visible()
    await log_in(theirs, hub_url, "di@example.org", PASSWORD)
    await expect(theirs.locator(".top .me")).to_have_text("Di (agent)")


async def test_a_rule_edited_in_the_browser_holds_a_comment(
    browser: Browser, client: Any, hub_url: str, agent: dict[str, str]
) -> None:
    page = await _admin_page(browser, hub_url, agent, "rules")
    hold = page.locator('#rules-form [data-source="web"] [data-stage="words"]').get_by_label(
        "hold", exact=True
    )
    await hold.fill(await hold.input_value() + "\ntarpaulin")
    await page.get_by_role("button", name="Save rules").click()
    await expect(page.locator("tr[data-version]")).to_have_count(1)
    await expect(page.locator("tr[data-version]")).to_contain_text("in force")

    resp = await client.post("/comment", json={"comment": "The tarpaulin tore in a week"})
    assert (await resp.json())["moderation"] == "held"
    await page.get_by_role("link", name="Moderation", exact=True).click()
    await expect(page.locator(".held blockquote")).to_have_text(["The tarpaulin tore in a week"])


async def test_a_refused_rule_shows_its_error_beside_the_field_and_nothing_is_stored(
    browser: Browser, client: Any, hub_url: str, agent: dict[str, str]
) -> None:
    admin = bearer(client, sub="root", role="admin")
    before = await (await client.get("/api/v1/moderation/rules", headers=admin)).json()
    page = await _admin_page(browser, hub_url, agent, "rules")
    web = page.locator('#rules-form [data-source="web"]')
    max_chars = web.locator('[data-stage="size"]').get_by_label("max_chars")
    count = web.locator('[data-stage="flood"] .rule-group').first.get_by_label("count")
    await max_chars.fill("-5")
    await count.fill("0")
    await page.get_by_role("button", name="Save rules").click()

    for field in (max_chars, count):
        await expect(field).to_have_attribute("aria-invalid", "true")
        error = page.locator(f"#{await field.get_attribute('aria-describedby')}")
        await expect(error).to_have_text("Input should be greater than or equal to 1")
    # The error line is the one beside the field, in the same row.
    await expect(
        web.locator('[data-stage="size"] .field')
        .filter(has_text="max_chars")
        .locator(".field-error")
    ).to_have_text("Input should be greater than or equal to 1")
    await expect(page.locator("#rules-form-errors li")).to_have_count(0)
    await expect(page.locator("tr[data-version]")).to_have_count(0)
    after = await (await client.get("/api/v1/moderation/rules", headers=admin)).json()
    assert after == before
    versions = await client.get("/api/v1/moderation/rules/versions", headers=admin)
    assert (await versions.json())["items"] == []

    await max_chars.fill("4000")
    await count.fill("5")
    await page.get_by_role("button", name="Save rules").click()
    await expect(page.locator("tr[data-version]")).to_have_count(1)
    stored = await (await client.get("/api/v1/moderation/rules", headers=admin)).json()
    size = next(s for s in stored["rules"]["web"] if s["stage"] == "size")
    assert size["max_chars"] == 4000


async def test_the_json_editor_names_a_refused_value_by_its_path(
    browser: Browser, hub_url: str, agent: dict[str, str]
) -> None:
    page = await _admin_page(browser, hub_url, agent, "rules")
    await page.get_by_text("Edit as JSON").click()
    editor = page.get_by_label("Rules (JSON)")
    rules = json.loads(await editor.input_value())
    sizes = next(stage for stage in rules["web"] if stage["stage"] == "size")
    sizes["max_chars"] = -5
    await editor.fill(json.dumps(rules))
    await page.get_by_role("button", name="Save JSON").click()
    await expect(page.locator("#rules-errors .path")).to_have_text(
        [f"web.{rules['web'].index(sizes)}.size.max_chars"]
    )
    await expect(page.locator("tr[data-version]")).to_have_count(0)
