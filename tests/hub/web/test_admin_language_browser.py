"""Every administration page in Simplified Chinese: no English interface string is left."""

from __future__ import annotations

import re
from typing import Any

from playwright.async_api import Browser, Page, expect

from tests.helpers.browser import log_in

TABS = ("agents", "kb", "rules", "channels", "tokens", "audit", "webhooks", "overview")
CJK = re.compile(r"[\u4e00-\u9fff]")
# Shown as they are in both languages: names, identifiers and examples of what to type.
UNTRANSLATED = re.compile(
    r"^(Chorus|CSV|JSON|URL|Slack|p90|U0123ABCD|https://crm\.example\.com/chorus"
    r"|POST /api/v1/agents|conversations:read, kb:read|[a-z_]+\.[a-z_]+)$"
)

# The interface's own text on the page, its top bar included (content a person wrote or a value the API returns,
# in table cells, code and quotes, is left out), with attributes a screen reader speaks.
VISIBLE_TEXT = """() => {
  // The language menu names each language in itself.
  const content = "td, code, pre, blockquote, .text, .preview, .who, .label, .contact-name, .me, .language";
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.parentElement.closest(content) && node.nodeValue.trim()) found.push(node.nodeValue.trim());
  }
  for (const el of document.querySelectorAll("[aria-label], [placeholder], [title]")) {
    if (el.closest(content)) continue;
    for (const attr of ["aria-label", "placeholder", "title"]) {
      if (el.getAttribute(attr)) found.push(el.getAttribute(attr).trim());
    }
  }
  return found;
}"""

TABLES = """async () => {
  const { STRINGS } = await import("/inbox/assets/strings.js");
  const { ZH } = await import("/inbox/assets/i18n.js");
  return { en: STRINGS.en, zh: STRINGS["zh-CN"], inbox: Object.keys(ZH) };
}"""


async def _in_chinese(browser: Browser, hub_url: str, agent: dict[str, str]) -> Page:
    page = await browser.new_page()
    await log_in(page, hub_url, agent["email"], agent["password"])
    await expect(page.locator("#live-state")).to_have_text("● live")
    await page.evaluate("localStorage.setItem('chorus.lang', 'zh-CN')")
    await page.reload()
    await expect(page.locator("#live-state")).to_have_text("● 实时")
    return page


async def test_every_admin_page_is_in_chinese(
    browser: Browser, hub_url: str, agent: dict[str, str]
) -> None:
    page = await _in_chinese(browser, hub_url, agent)
    tables: dict[str, Any] = await page.evaluate(TABLES)
    missing = sorted(set(tables["en"]) - set(tables["zh"]))
    assert not missing, f"no Chinese for {missing}"
    english = {
        v.strip() for k, v in tables["en"].items() if v != tables["zh"][k] and not CJK.search(v)
    }
    english |= set(tables["inbox"])

    for tab in TABS:
        await page.goto(f"{hub_url}/inbox/#/admin/{tab}")
        await expect(page.locator(f"#admin-{tab} h2").first).to_be_visible()
        if tab == "kb":
            await page.get_by_role("button", name="添加条目").click()
            await expect(page.locator("#kb-form")).to_be_visible()
        shown: list[str] = await page.evaluate(VISIBLE_TEXT)
        left = sorted({s for s in shown if s in english})
        assert not left, f"{tab}: English left {left}"
        untranslated = sorted(
            {s for s in shown if re.search("[A-Za-z]", s) and not CJK.search(s)}
            - {s for s in shown if UNTRANSLATED.match(s)}
        )
        assert not untranslated, f"{tab}: not in Chinese {untranslated}"

    await page.goto(f"{hub_url}/inbox/#/admin/kb")
    await page.get_by_role("button", name="添加条目").click()
    await expect(page.locator("#kb-form").get_by_label("语言")).to_be_visible()
    await page.goto(f"{hub_url}/inbox/#/admin/rules")
    await expect(page.locator("#rules-form legend").first).to_have_text("网站评论")
    await expect(page.get_by_role("button", name="保存规则")).to_be_visible()
    await page.goto(f"{hub_url}/inbox/#/admin/webhooks")
    await expect(page.get_by_role("button", name="添加端点")).to_be_visible()
    await expect(page.get_by_text("还没有端点。")).to_be_visible()
    await expect(page.get_by_role("link", name="服务令牌")).to_be_visible()
    await expect(page.get_by_role("link", name="报表")).to_be_visible()


async def test_refusals_beside_the_fields_are_in_chinese(
    browser: Browser, hub_url: str, agent: dict[str, str]
) -> None:
    page = await _in_chinese(browser, hub_url, agent)
    await page.goto(f"{hub_url}/inbox/#/admin/rules")
    size = page.locator('#rules-form [data-source="web"] [data-stage="size"]')
    await size.get_by_label("max_chars").fill("-5")
    await page.get_by_role("button", name="保存规则").click()
    beside = size.locator(".field").filter(has_text="max_chars").locator(".field-error")
    await expect(beside).to_have_text("不能小于 1")

    await page.goto(f"{hub_url}/inbox/#/admin/agents")
    form = page.locator("#add-agent")
    await form.get_by_label("邮箱").fill("cy@example.org")
    await form.get_by_label("初始密码").fill("short")
    await form.get_by_role("button", name="添加客服").click()
    await expect(page.locator("#add-agent-password-error")).to_have_text("至少 12 个字符")
