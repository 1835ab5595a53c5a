"""Files on Slack: files in agents' threads and customers' DMs are fetched with the bot
token into the media store; files an agent sends from elsewhere are mirrored into the
thread, and files for a DM customer are uploaded into the DM, through slack_sdk's
``files_upload_v2`` (files.getUploadURLExternal, the upload, files.completeUploadExternal)."""

from __future__ import annotations

from typing import Any

from tests.fakes.slack_api import FakeSlackApi
from tests.helpers.hub import bearer, wait_for
from tests.helpers.media import PDF, form, png
from tests.helpers.presence import agent_online
from tests.helpers.slack import (
    ADA,
    AGENT_CHANNEL,
    SlackSender,
    hand_off,
    next_frame,
    open_thread,
    quiet,
    web_customer_writes,
)

DM = "D0LINUS"


async def _shared(fake: FakeSlackApi, count: int) -> list[dict[str, Any]]:
    async def done() -> list[dict[str, Any]] | None:
        return fake.shared_files if len(fake.shared_files) >= count else None

    found: list[dict[str, Any]] = await wait_for(done)
    return found


async def test_an_agent_file_from_the_inbox_is_mirrored_into_the_thread(
    client, db, slack_api: FakeSlackApi
) -> None:
    conversation_id, header_ts = await open_thread(client, db, slack_api)
    resp = await client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        data=form(("label.pdf", PDF), text="Your return label"),
        headers=bearer(client),
    )
    assert resp.status == 201, await resp.text()
    (shared,) = await _shared(slack_api, 1)
    assert (shared["channel"], shared["thread_ts"]) == (AGENT_CHANNEL, header_ts)
    assert (shared["filename"], shared["content"]) == ("label.pdf", PDF)
    upload_calls = [c.method for c in slack_api.calls if c.method.startswith("files.")]
    assert upload_calls == ["files.getUploadURLExternal", "files.completeUploadExternal"]


async def test_a_file_in_the_thread_reaches_the_web_customer_from_the_media_store(
    client, db, slack: SlackSender, slack_api: FakeSlackApi
) -> None:
    async with client.ws_connect("/chat") as ws:
        conversation_id = await web_customer_writes(client, ws, "Which shelf fits?")
        header_ts = await hand_off(client, db, slack_api, conversation_id)
        file = slack_api.private_file("shelf.png", png(), "image/png")
        event = slack.thread_reply(ADA, header_ts, "This one", subtype="file_share", files=[file])
        assert (await slack.event(event)).status == 200
        await quiet(client)

        async def kept() -> dict[str, Any] | None:
            doc = await db.messages.find_one({"direction": "outbound"})
            return doc if doc and doc["attachments"][0].get("media_id") else None

        reply = await wait_for(kept)
        assert reply["attachments"][0]["url"] == file["permalink"]
        await ws.send_json({"type": "history"})
        history = await next_frame(ws, "history")
    (shown,) = history["messages"][-1]["attachments"]
    image = await client.get(shown["download_url"])
    assert await image.read() == png()
    assert (await client.get(shown["thumbnail_url"])).status == 200


async def test_dm_customer_files_both_ways(client, db, slack: SlackSender, slack_api) -> None:
    customer = slack_api.user_id("Linus")
    file = slack_api.private_file("receipt.pdf", PDF, "application/pdf")
    event = slack.dm(customer, DM, "my receipt", subtype="file_share", files=[file])
    assert (await slack.event(event)).status == 200

    async def kept() -> dict[str, Any] | None:
        doc = await db.messages.find_one({"direction": "inbound"})
        return doc if doc and doc["attachments"][0].get("media_id") else None

    stored = await wait_for(kept)
    assert stored["attachments"][0]["mime_type"] == "application/pdf"
    resp = await client.post(
        f"/api/v1/conversations/{stored['conversation_id']}/messages",
        data=form(("refund.pdf", PDF), text="Refund confirmation"),
        headers=bearer(client, sub="agent-ada"),
    )
    assert resp.status == 201
    # Into the DM (delivery), and into the agents' thread the reply opened (a mirror).
    shared = await _shared(slack_api, 2)
    assert sorted((s["channel"], s["filename"], s["content"] == PDF) for s in shared) == [
        (AGENT_CHANNEL, "refund.pdf", True),
        (DM, "refund.pdf", True),
    ]

    async def sent() -> bool:
        doc = await db.messages.find_one({"_id": (await resp.json())["id"]})
        return doc["delivery"]["status"] == "sent"

    await wait_for(sent)


async def test_a_fetched_dm_file_is_shown_live_and_mirrored_once(
    client, db, slack: SlackSender, slack_api
) -> None:
    customer = slack_api.user_id("Linus")
    assert (await slack.event(slack.dm(customer, DM, "hello"))).status == 200
    stored = await wait_for(lambda: db.messages.find_one({"direction": "inbound"}))
    resp = await client.post(  # the reply opens the agents' thread
        f"/api/v1/conversations/{stored['conversation_id']}/messages",
        json={"text": "Hi Linus"},
        headers=bearer(client, sub="agent-ada"),
    )
    assert resp.status == 201
    await quiet(client)
    async with agent_online(client) as feed:
        file = slack_api.private_file("receipt.png", png(), "image/png")
        event = slack.dm(customer, DM, "my receipt", subtype="file_share", files=[file])
        assert (await slack.event(event)).status == 200
        shown = await next_frame(feed, "message")
        assert shown["message"]["attachments"][0]["media_id"] is None
        fetched = await next_frame(feed, "message_files")
        await quiet(client)
    assert fetched["message"]["id"] == shown["message"]["id"]
    assert fetched["message"]["attachments"][0]["width"] == 800  # png()'s default size
    mirrored = [
        c for c in slack_api.calls
        if c.method == "chat.postMessage" and "my receipt" in str(c.args.get("text"))
    ]  # fmt: skip
    assert len(mirrored) == 1  # the fetched file changes no line of the thread
