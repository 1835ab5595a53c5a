"""X edits: an edited mention is a new tweet naming the first version; the stored message
keeps every version and a message.updated webhook event is delivered."""

from __future__ import annotations

import json
from typing import Any

from tests.helpers.hub import wait_for
from tests.helpers.twitter import CUSTOMER_ID, signature
from tests.helpers.twitter import tweet as _tweet
from tests.helpers.webhooks import register


async def _stored(db: Any, text: str) -> dict[str, Any]:
    async def found() -> dict[str, Any] | None:
        doc: dict[str, Any] | None = await db.messages.find_one({"text": text})
        return doc

    result: dict[str, Any] = await wait_for(found)
    return result


async def test_polled_edit_updates_the_stored_mention_and_keeps_its_history(
    make_client, twitter_config, twitter_api, db, receiver
) -> None:
    config = twitter_config()
    config.webhooks.allow_private_addresses = True
    config.webhooks.base_delay_seconds = 0.02
    config.webhooks.poll_seconds = 0.2
    first = twitter_api.add_mention(CUSTOMER_ID, "@acme my order is lat")
    client = await make_client(config)
    await register(client, receiver.url, ["message.updated"])
    original = await _stored(db, "@acme my order is lat")
    twitter_api.edit_mention(first, "@acme my order is late")

    edited = await _stored(db, "@acme my order is late")
    assert edited["_id"] == original["_id"]  # the same message, not a second one
    assert [e["text"] for e in edited["edits"]] == ["@acme my order is lat"]
    assert await db.messages.count_documents({"channel": "twitter"}) == 1

    async def updated() -> list[dict[str, Any]] | None:
        events = [e for e in receiver.accepted() if e["type"] == "message.updated"]
        return events or None

    events = await wait_for(updated, within=20)
    message = events[0]["data"]["message"]
    assert message["id"] == original["_id"]
    assert message["text"] == "@acme my order is late"
    assert [e["text"] for e in message["edits"]] == ["@acme my order is lat"]


def _v1_tweet(tweet_id: str, text: str, history: list[str]) -> dict[str, Any]:
    """A tweet as the Account Activity API (v1.1) posts it, with its edit fields."""
    return _tweet(
        tweet_id,
        text,
        edit_history={"initial_tweet_id": history[0], "edit_tweet_ids": history},
        edit_controls={"editable_until_ms": "1700000000000", "edits_remaining": "4"},
    )


async def test_webhook_edit_updates_the_stored_mention(
    make_client, twitter_config, twitter_api, db
) -> None:
    client = await make_client(twitter_config(mode="webhook"))
    secret = twitter_api.credentials.consumer_secret
    for tweet in (
        _v1_tweet("7001", "@acme is the shop open", ["7001"]),
        _v1_tweet("7002", "@acme is the shop open today?", ["7001", "7002"]),
    ):
        payload = {"for_user_id": twitter_api.account_id, "tweet_create_events": [tweet]}
        body = json.dumps(payload).encode()
        resp = await client.post(
            "/webhooks/twitter",
            data=body,
            headers={
                "Content-Type": "application/json",
                "x-twitter-webhooks-signature": signature(secret, body),
            },
        )
        assert resp.status == 200, await resp.text()

    edited = await _stored(db, "@acme is the shop open today?")
    assert [e["text"] for e in edited["edits"]] == ["@acme is the shop open"]
    assert await db.messages.count_documents({"channel": "twitter"}) == 1
