"""Platform APIs answer 429, then 500, then time out, then succeed: every reply goes out once.

Each test drives one channel's real client library against its fake platform on loopback.
The timed-out call is answered with an error after the client gave up, so the platform
took no effect: a second copy at the fake would mean the hub sent twice.
"""

from __future__ import annotations

from typing import Any

from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.twitter_api import FakeTwitterApi, _problem
from tests.helpers.hub import bearer, wait_for
from tests.helpers.slack import SlackSender
from tests.helpers.telegram import CHAT_ID, post_update, telegram_config, text_update
from tests.helpers.twitter import CUSTOMER_ID

TEXT = "Your order shipped today."


async def _reply(client: Any, conversation_id: str, text: str = TEXT) -> str:
    resp = await client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"text": text},
        headers=bearer(client),
    )
    assert resp.status == 201
    return str((await resp.json())["id"])


async def _settled(db: Any, message_id: str, within: float = 30) -> dict[str, Any]:
    async def done() -> Any:
        doc = await db.messages.find_one({"_id": message_id})
        return doc["delivery"] if doc["delivery"]["status"] in ("sent", "failed") else None

    delivery: dict[str, Any] = await wait_for(done, within=within)
    return delivery


async def _telegram_conversation(client: Any, db: Any) -> str:
    assert (await post_update(client, text_update(1, "where is my parcel?"))).status == 200
    doc = await db.messages.find_one({"channel": "telegram", "direction": "inbound"})
    return str(doc["conversation_id"])


async def test_telegram_reply_survives_429_500_and_timeout(
    telegram_server, fake_telegram: FakeTelegramAPI, make_client, config, db
) -> None:
    cfg = telegram_config(config, telegram_server, fake_telegram.token, request_timeout_seconds=0.5)
    client = await make_client(cfg)
    fake_telegram.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    fake_telegram.fail_next("sendMessage", 500, "Internal Server Error")
    fake_telegram.fail_next("sendMessage", 502, "Bad Gateway", delay=1.5)  # the client times out

    message_id = await _reply(client, await _telegram_conversation(client, db))
    delivery = await _settled(db, message_id)

    assert delivery["status"] == "sent" and delivery["attempts"] == 4
    assert len(fake_telegram.calls_of("sendMessage")) == 4
    assert [(s["chat_id"], s["text"]) for s in fake_telegram.sent] == [(CHAT_ID, TEXT)]


async def test_slack_reply_survives_429_500_and_timeout(
    make_client, slack_config, slack_api: FakeSlackApi, db
) -> None:
    cfg = slack_config.model_copy(deep=True)
    cfg.slack.request_timeout_seconds = 1
    client = await make_client(cfg)
    slack = SlackSender(client, slack_api)
    customer, dm = slack_api.user_id("Linus"), "D0LINUS"
    assert (await slack.event(slack.dm(customer, dm, "where is my parcel?"))).status == 200
    inbound = await db.messages.find_one({"channel": "slack", "direction": "inbound"})
    slack_api.rate_limit_next("chat.postMessage", 1, channel=dm)
    slack_api.fail_next("chat.postMessage", "internal_error", status=500, channel=dm)
    slack_api.fail_next(
        "chat.postMessage", "request_timeout", status=503, channel=dm, delay=2.5
    )  # the client times out first

    message_id = await _reply(client, inbound["conversation_id"])
    delivery = await _settled(db, message_id)

    assert delivery["status"] == "sent"
    calls = slack_api.calls_to("chat.postMessage", channel=dm)
    assert len(calls) == 4  # three scripted failures, one success
    assert [c.args["text"] for c in calls] == [TEXT] * 4


async def test_x_reply_survives_429_500_and_timeout(
    make_client, twitter_config, twitter_api: FakeTwitterApi, db
) -> None:
    twitter_api.add_dm(CUSTOMER_ID, "where is my parcel?")
    client = await make_client(twitter_config(request_timeout_seconds=0.5))

    async def conversation() -> Any:
        return await db.conversations.find_one({"thread_key": f"dm:{CUSTOMER_ID}"})

    conversation_id = str((await wait_for(conversation))["_id"])
    bearer(client)  # the replying agent exists before the window starts
    # 429 until the window resets; X gives the reset in whole seconds, so a window set 2 s
    # ahead lasts between 1 and 2 s (1 s ahead could end before the first send).
    twitter_api.set_window("send_dm", remaining=0, reset_in=2)
    twitter_api.script("send_dm", 500, _problem(500, "Internal Error", "Internal Error"))
    twitter_api.script(
        "send_dm", 503, _problem(503, "Service Unavailable", "Over capacity"), delay=2
    )  # the client times out first

    message_id = await _reply(client, conversation_id)
    delivery = await _settled(db, message_id)

    assert delivery["status"] == "sent"
    statuses = [r.status for r in twitter_api.calls("send_dm")]
    assert statuses[0] == 429 and 500 in statuses and statuses[-1] == 201
    assert statuses.count(201) == 1
    assert twitter_api.sent_dms == [
        {"id": delivery["platform_id"], "participant_id": CUSTOMER_ID, "text": TEXT}
    ]


async def test_pending_reply_survives_a_hub_restart(
    telegram_server, fake_telegram: FakeTelegramAPI, make_client, tg_config, db
) -> None:
    first = await make_client(tg_config)
    conversation_id = await _telegram_conversation(first, db)
    fake_telegram.fail_next("sendMessage", 429, "Too Many Requests: retry after 2", retry_after=2)
    message_id = await _reply(first, conversation_id)

    async def retry_scheduled() -> Any:
        doc = await db.messages.find_one({"_id": message_id})
        return doc["delivery"]["attempts"] == 1 and doc["delivery"]["status"] == "pending"

    await wait_for(retry_scheduled)
    await first.close()  # the hub stops with the reply still pending
    assert fake_telegram.sent == []

    await make_client(tg_config)  # a new hub on the same database
    delivery = await _settled(db, message_id)

    assert delivery["status"] == "sent" and delivery["attempts"] == 2
    assert [s["text"] for s in fake_telegram.sent] == [TEXT]
