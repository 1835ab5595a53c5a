"""An agent attaches a PDF in the inbox (real Chromium) and it arrives in Telegram, through
the fake Bot API, as a sendDocument upload."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Browser, expect

from tests.helpers.browser import log_in
from tests.helpers.hub import MakeClient, wait_for
from tests.helpers.media import PDF
from tests.helpers.telegram import (  # noqa: F401 - fixtures for this module
    fake_telegram,
    post_update,
    telegram_server,
    text_update,
    tg_config,
)


@pytest.fixture
async def client(make_client: MakeClient, tg_config: Any) -> Any:  # noqa: F811
    """The hub with Telegram on, against the fake Bot API."""
    return await make_client(tg_config)


async def test_an_agent_pdf_arrives_in_telegram(
    browser: Browser, client: Any, hub_url: str, agent: dict[str, str], request: Any
) -> None:
    fake = request.getfixturevalue("fake_telegram")  # the one the hub talks to
    assert (await post_update(client, text_update(7, "Where is the manual?"))).status == 200
    inbox = await browser.new_page()
    await log_in(inbox, hub_url, agent["email"], agent["password"])
    await inbox.locator(".conversation a").first.click()
    await inbox.get_by_label("Reply").fill("Here it is")
    await inbox.get_by_label("Attach files").set_input_files(
        {"name": "manual.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    await inbox.get_by_role("button", name="Send").click()
    await expect(inbox.locator(".thread .msg-outbound a.attachment")).to_have_text(["manual.pdf"])

    async def arrived() -> list[dict[str, Any]]:
        return list(fake.uploads)

    (upload,) = await wait_for(arrived)
    assert (upload["method"], upload["filename"], upload["content"]) == (
        "document", "manual.pdf", PDF
    )  # fmt: skip
    await wait_for(lambda: _texts(fake))
    assert [s["text"] for s in fake.sent] == ["Here it is"]


async def _texts(fake: Any) -> bool:
    return bool(fake.sent)
