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
    await page.locator("#kb-form").get_by_label("Answer").fill("Parcels fly over in two days.")
    await page.locator("#kb-form").get_by_role("button", name="Save").click()
    await expect(page.locator('tr[data-entry="shipping-time"]')).to_contain_text("fly over")

    widget = await browser.new_page()
    await widget.goto(f"{hub_url}/widget/demo")
    await widget.get_by_role("button", name="Open chat").click()
    await widget.get_by_label("Your message").fill("How long does shipping take?")
    await widget.get_by_role("button", name="Send").click()
    await expect(widget.get_by_text("Parcels fly over in two days.")).to_be_visible()


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
    editor = page.get_by_label("Rules (JSON)")
    rules = json.loads(await editor.input_value())
    words = next(stage for stage in rules["web"] if stage["stage"] == "words")
    words["hold"].append("tarpaulin")
    sizes = next(stage for stage in rules["web"] if stage["stage"] == "size")
    sizes["max_chars"] = -5
    await editor.fill(json.dumps(rules))
    await page.get_by_role("button", name="Save").click()
    # The refusal names the field by its path; nothing is stored.
    await expect(page.locator("#rules-errors .path")).to_contain_text(["web.0"])
    sizes["max_chars"] = 5000
    await editor.fill(json.dumps(rules))
    await page.get_by_role("button", name="Save").click()
    await expect(page.locator("tr[data-version]")).to_have_count(1)
    await expect(page.locator("tr[data-version]")).to_contain_text("in force")

    resp = await client.post("/comment", json={"comment": "The tarpaulin tore in a week"})
    assert (await resp.json())["moderation"] == "held"
    await page.get_by_role("link", name="Moderation", exact=True).click()
    await expect(page.locator(".held blockquote")).to_have_text(["The tarpaulin tore in a week"])
