"""A Slack user who writes to the app directly is a customer like any other."""

from __future__ import annotations

from tests.fakes.slack_api import FakeSlackApi
from tests.helpers.hub import bearer, wait_for
from tests.helpers.slack import (
    ADA,
    AGENT_CHANNEL,
    SlackSender,
    hand_off,
    slack_calls,
)

DM = "D0LINUS"


async def _dm_conversation(slack: SlackSender, slack_api: FakeSlackApi, db, text: str) -> dict:
    customer = slack_api.user_id("Linus")
    assert (await slack.event(slack.dm(customer, DM, text))).status == 200
    message = await db.messages.find_one({"channel": "slack", "direction": "inbound"})
    return await db.conversations.find_one({"_id": message["conversation_id"]})


async def _reply(client, conversation_id: str, text: str) -> str:
    resp = await client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"text": text},
        headers=bearer(client, sub="agent-ada"),
    )
    assert resp.status == 201
    return (await resp.json())["id"]


async def _delivery(db, message_id: str, status: str) -> dict:
    async def reached() -> dict | None:
        doc = await db.messages.find_one({"_id": message_id})
        return doc["delivery"] if doc["delivery"]["status"] == status else None

    return await wait_for(reached)


async def test_dm_customer_round_trip(client, db, slack: SlackSender, slack_api) -> None:
    conversation = await _dm_conversation(slack, slack_api, db, "Is 1 &lt; 2?")
    assert conversation["channel"] == "slack"
    assert conversation["thread_key"] == DM
    assert conversation["route"] == {"channel": DM}
    message = await db.messages.find_one({"direction": "inbound"})
    assert message["text"] == "Is 1 < 2?"
    assert message["external_id"].startswith(f"{DM}:")
    contact = await db.contacts.find_one({"_id": message["contact_id"]})
    assert contact["name"] == "Linus"
    assert contact["identities"][0]["external_id"] == "ULINUS"

    reply_id = await _reply(client, conversation["_id"], "Yes, 1 < 2")

    delivery = await _delivery(db, reply_id, "sent")
    (sent,) = slack_api.calls_to("chat.postMessage", channel=DM)
    assert sent.args["text"] == "Yes, 1 &lt; 2"
    assert "thread_ts" not in sent.args
    assert delivery["platform_id"] and delivery["attempts"] == 1


async def test_dm_with_a_file_keeps_it_as_a_link(client, db, slack: SlackSender, slack_api) -> None:
    file = slack_api.private_file("invoice.pdf", b"%PDF-1.4 " + b"0" * 1225, "application/pdf")
    await _dm_conversation(slack, slack_api, db, "hi")
    event = slack.dm("ULINUS", DM, "see attached", subtype="file_share", files=[file])
    assert (await slack.event(event)).status == 200
    stored = await db.messages.find_one({"text": "see attached"})
    (attachment,) = stored["attachments"]
    assert attachment["name"] == "invoice.pdf" and attachment["size"] == 1234
    assert attachment["url"] == file["permalink"]


async def test_dm_customer_handed_off_gets_a_thread_and_the_agent_answers_in_the_dm(
    client, db, slack: SlackSender, slack_api: FakeSlackApi
) -> None:
    conversation = await _dm_conversation(slack, slack_api, db, "I need a human")
    header_ts = await hand_off(client, db, slack_api, conversation["_id"])
    (header,) = slack_api.calls_to("chat.postMessage", channel=AGENT_CHANNEL)
    assert "*Linus* on *slack*" in str(header.args["blocks"])

    assert (await slack.event(slack.thread_reply(ADA, header_ts, "Hi Linus"))).status == 200

    (sent,) = await slack_calls(slack_api, "chat.postMessage", channel=DM)
    assert sent.args["text"] == "Hi Linus"
    # The customer's next DM is mirrored into the agents' thread.
    assert (await slack.event(slack.dm("ULINUS", DM, "thanks!"))).status == 200
    (mirror,) = await slack_calls(slack_api, "chat.postMessage", thread_ts=header_ts)
    assert mirror.args["text"] == "*Linus*: thanks!"


async def test_rate_limited_send_waits_retry_after_then_succeeds(
    client, db, slack: SlackSender, slack_api: FakeSlackApi
) -> None:
    conversation = await _dm_conversation(slack, slack_api, db, "hello")
    slack_api.rate_limit_next("chat.postMessage", retry_after=1, channel=DM)

    reply_id = await _reply(client, conversation["_id"], "Hello from support")

    delivery = await _delivery(db, reply_id, "sent")
    assert delivery["attempts"] == 2
    limited, sent = slack_api.calls_to("chat.postMessage", channel=DM)
    assert sent.at - limited.at >= 0.95  # Retry-After: 1 was honoured
    assert sent.args["text"] == "Hello from support"


async def test_refused_send_stores_slacks_error_code(
    client, db, slack: SlackSender, slack_api: FakeSlackApi
) -> None:
    conversation = await _dm_conversation(slack, slack_api, db, "hello")
    slack_api.fail_next("chat.postMessage", "channel_not_found", channel=DM)

    reply_id = await _reply(client, conversation["_id"], "Anyone there?")

    delivery = await _delivery(db, reply_id, "failed")
    assert delivery["reason"] == "channel_not_found"
    assert len(slack_api.calls_to("chat.postMessage", channel=DM)) == 1
    contact = await db.contacts.find_one({"_id": conversation["contact_id"]})
    assert contact["identities"][0]["reachable"] is False
