"""Files in the widget and the inbox, in a real Chromium: a customer's image reaches the
agent as a thumbnail, an agent's PDF reaches the widget, a disguised program is refused."""

from __future__ import annotations

from playwright.async_api import Browser, Page, expect

from tests.helpers.browser import log_in
from tests.helpers.media import EXECUTABLE, PDF, png


async def _open_widget(browser: Browser, hub_url: str) -> Page:
    widget = await browser.new_page()
    await widget.goto(f"{hub_url}/widget/demo")
    await widget.get_by_role("button", name="Open chat").click()
    await widget.get_by_label("Your message").fill("Here is the damage")
    await widget.get_by_role("button", name="Send").click()
    await expect(widget.locator(".cw-msg.cw-pending")).to_have_count(0)
    return widget


async def _loaded(image_locator) -> bool:  # type: ignore[no-untyped-def]
    return bool(await image_locator.evaluate("img => img.complete && img.naturalWidth > 0"))


async def test_a_customer_image_reaches_the_agent_as_a_thumbnail(
    browser: Browser, hub_url: str, agent: dict[str, str]
) -> None:
    widget = await _open_widget(browser, hub_url)
    await widget.locator(".cw-form input[type=file]").set_input_files(
        {"name": "tent.png", "mimeType": "image/png", "buffer": png()}
    )
    own = widget.locator(".cw-msg.cw-me img.cw-thumb")
    await expect(own).to_have_count(1)
    await expect(widget.locator(".cw-msg.cw-pending")).to_have_count(0)
    assert await _loaded(own)

    inbox = await browser.new_page()
    await log_in(inbox, hub_url, agent["email"], agent["password"])
    await inbox.locator(".conversation a").first.click()
    thumb = inbox.locator(".thread .msg-inbound img.thumb")
    await expect(thumb).to_have_count(1)
    await expect(thumb).to_have_attribute("alt", "tent.png")
    assert await _loaded(thumb)
    assert await thumb.evaluate("img => img.naturalWidth") == 320

    # A pasted screenshot goes the same way, and arrives live in the open conversation.
    await widget.evaluate(
        """async (bytes) => {
          const file = new File([new Uint8Array(bytes)], "screenshot.png", { type: "image/png" });
          const data = new DataTransfer();
          data.items.add(file);
          const input = document.querySelector(".cw-form input:not([type])");
          input.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true }));
        }""",
        list(png(40, 30)),
    )
    await expect(thumb).to_have_count(2)
    assert await _loaded(thumb.nth(1))


async def test_an_agent_pdf_reaches_the_widget_and_a_disguised_program_is_refused(
    browser: Browser, hub_url: str, agent: dict[str, str]
) -> None:
    # The agent is online first: with the bot off, the widget otherwise offers its
    # offline form instead of the chat.
    inbox = await browser.new_page()
    await log_in(inbox, hub_url, agent["email"], agent["password"])
    await expect(inbox.locator("#live-state")).to_have_text("● live")
    widget = await _open_widget(browser, hub_url)
    await inbox.locator(".conversation a").first.click()
    await inbox.get_by_label("Reply").fill("The warranty terms")
    await inbox.get_by_label("Attach files").set_input_files(
        {"name": "warranty.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    await inbox.get_by_role("button", name="Send").click()
    await expect(inbox.locator(".thread .msg-outbound a.attachment")).to_have_text(["warranty.pdf"])
    link = widget.locator(".cw-msg:not(.cw-me) a.cw-file")
    await expect(link).to_have_text(["warranty.pdf"])
    href = await link.get_attribute("href")
    assert href is not None
    resp = await widget.request.get(href)
    assert resp.status == 200 and await resp.body() == PDF

    # Dropped onto the panel: a program named like an image is refused, and nothing is sent.
    await widget.evaluate(
        """(bytes) => {
          const data = new DataTransfer();
          data.items.add(new File([new Uint8Array(bytes)], "cute-cat.png", { type: "image/png" }));
          document.querySelector(".cw-box").dispatchEvent(
            new DragEvent("drop", { dataTransfer: data, bubbles: true, cancelable: true }));
        }""",
        list(EXECUTABLE),
    )
    await expect(widget.get_by_role("alert")).to_contain_text("executable files are not accepted")
    await expect(widget.locator(".cw-msg.cw-me")).to_have_count(1)
