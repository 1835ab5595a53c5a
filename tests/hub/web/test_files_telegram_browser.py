"""An agent attaches a PDF in the inbox (real Chromium) and it arrives in Telegram, through
the fake Bot API, as a sendDocument upload; a customer's photo, fetched with getFile after
its message is shown, appears as a thumbnail in the open conversation without a reload."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Browser, expect
from telegram import PhotoSize

from tests.helpers.browser import log_in
from tests.helpers.hub import MakeClient, wait_for
from tests.helpers.media import PDF, png
from tests.helpers.telegram import (  # noqa: F401 - fixtures for this module
    fake_telegram,
    post_update,
    telegram_server,
    text_update,
    tg_config,
    update,
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


async def test_a_fetched_customer_photo_shows_in_the_open_conversation(
    browser: Browser, client: Any, hub_url: str, agent: dict[str, str], request: Any
) -> None:
    fake = request.getfixturevalue("fake_telegram")
    assert (await post_update(client, text_update(11, "The lamp arrived broken"))).status == 200
    inbox = await browser.new_page()
    await log_in(inbox, hub_url, agent["email"], agent["password"])
    await inbox.locator(".conversation a").first.click()
    await expect(inbox.locator(".thread .msg-inbound")).to_have_count(1)

    fake.add_file("lamp-photo", "photos/file_5.jpg", png(640, 480))
    photo = PhotoSize("lamp-photo", "lp", 640, 480).to_dict()
    assert (await post_update(client, update(12, photo=[photo], caption="See?"))).status == 200
    # Shown from the live feed, then given its thumbnail once getFile has fetched it.
    await expect(inbox.locator(".thread .msg-inbound")).to_have_count(2)
    thumb = inbox.locator(".thread .msg-inbound").nth(1).locator("a.attachment img.thumb")
    await expect(thumb).to_have_count(1)
    # The signed thumbnail link serves a real image: it decodes.
    assert await thumb.evaluate("img => img.decode().then(() => img.naturalWidth)") > 0
