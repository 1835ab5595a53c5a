"""Polling the fake X API: mentions and DMs into the inbox, once, within rate limits."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.helpers.hub import bearer, wait_for
from tests.helpers.twitter import CUSTOMER_ID, adapter_of


async def _twitter_messages(client: Any) -> list[dict[str, Any]]:
    resp = await client.get("/api/v1/messages?channel=twitter&limit=100", headers=bearer(client))
    assert resp.status == 200
    return (await resp.json())["items"]


async def _count(client: Any, n: int) -> list[dict[str, Any]]:
    async def enough() -> list[dict[str, Any]] | None:
        items = await _twitter_messages(client)
        return items if len(items) >= n else None

    return await wait_for(enough)


async def test_mentions_and_dms_arrive_in_messages_api(
    make_client, twitter_config, twitter_api, db
) -> None:
    text = "@acme my order is late https://t.co/abc https://t.co/pic"
    link, pic = text.index("https://t.co/abc"), text.index("https://t.co/pic")
    twitter_api.add_mention(
        CUSTOMER_ID,
        text,
        urls=[
            {
                "start": link,
                "end": link + 16,
                "url": "https://t.co/abc",
                "expanded_url": "https://shop.example/orders/42",
                "display_url": "shop.example/orders/42",
            },
            {
                "start": pic,
                "end": pic + 16,
                "url": "https://t.co/pic",
                "expanded_url": "https://x.com/ada/status/1/photo/1",
                "display_url": "pic.x.com/pic",
                "media_key": "3_1",
            },
        ],
        media=[{"media_key": "3_1", "type": "photo", "url": "https://pbs.twimg.com/media/a.jpg"}],
    )
    twitter_api.add_dm(CUSTOMER_ID, "Can you check it &amp; call me?")
    client = await make_client(twitter_config())

    items = await _count(client, 2)
    by_text = {m["text"]: m for m in items}
    assert set(by_text) == {
        "@acme my order is late https://shop.example/orders/42",
        "Can you check it & call me?",
    }
    mention = by_text["@acme my order is late https://shop.example/orders/42"]
    # An X link, not a file the hub keeps: no media id, no signed links.
    assert [{k: v for k, v in a.items() if v is not None} for a in mention["attachments"]] == [
        {
            "kind": "image",
            "name": "3_1",
            "mime_type": "image/jpeg",
            "url": "https://pbs.twimg.com/media/a.jpg",
        }
    ]
    contact = await db.contacts.find_one({})
    assert contact["name"] == "Ada Lovelace"
    assert contact["identities"][0]["external_id"] == CUSTOMER_ID
    assert contact["identities"][0]["handle"] == "ada"
    conversations = {c["thread_key"]: c async for c in db.conversations.find({})}
    tweet = twitter_api.mentions[0]
    assert conversations[tweet["conversation_id"]]["route"] == {
        "kind": "mention",
        "reply_to": tweet["id"],
    }
    assert conversations[f"dm:{CUSTOMER_ID}"]["route"] == {
        "kind": "dm",
        "participant_id": CUSTOMER_ID,
    }
    # Reads of DMs and (without a bearer token) mentions are signed as the account.
    assert {r.status for r in twitter_api.requests} == {200}


async def test_restart_neither_replays_nor_misses(
    make_client, twitter_config, twitter_api, db
) -> None:
    twitter_api.page_size = 2  # the backlog spans pages
    first = [twitter_api.add_mention(CUSTOMER_ID, f"@acme first {n}") for n in range(3)]
    twitter_api.add_dm(CUSTOMER_ID, "dm one")
    client = await make_client(twitter_config())
    await _count(client, 4)
    mentions_checkpoint = f"twitter:mentions:{twitter_api.account_id}"
    await wait_for(lambda: _checkpoint(db, mentions_checkpoint, "since_id", first[-1]["id"]))
    await client.close()

    # While the hub is down, new things happen; the next hub (same database) picks
    # them up, and only them.
    later = twitter_api.add_mention(CUSTOMER_ID, "@acme while you were away")
    twitter_api.add_dm(CUSTOMER_ID, "dm two")
    restart_index = len(twitter_api.requests)
    client = await make_client(twitter_config())
    items = await _count(client, 6)

    assert sorted(m["text"] for m in items) == sorted(
        [
            "@acme first 0",
            "@acme first 1",
            "@acme first 2",
            "dm one",
            "@acme while you were away",
            "dm two",
        ]
    )
    assert await db.messages.count_documents({"channel": "twitter"}) == 6
    after_restart = [r for r in twitter_api.requests[restart_index:] if r.endpoint == "mentions"]
    assert after_restart[0].query["since_id"] == first[-1]["id"]
    await wait_for(lambda: _checkpoint(db, mentions_checkpoint, "since_id", later["id"]))


async def test_restart_mid_backlog_resumes_from_the_saved_page(
    make_client, twitter_config, twitter_api, db
) -> None:
    twitter_api.page_size = 2
    tweets = [twitter_api.add_mention(CUSTOMER_ID, f"@acme backlog {n}") for n in range(5)]
    # The window allows one call: the first page, then the hub must stop paging (its reset
    # is far enough away that this hub makes no other call before it is closed).
    twitter_api.set_window("mentions", remaining=1, reset_in=15 * 60)
    client = await make_client(twitter_config())
    await _count(client, 2)
    checkpoint = f"twitter:mentions:{twitter_api.account_id}"
    saved = await wait_for(lambda: _checkpoint(db, checkpoint, "newest_id", tweets[-1]["id"]))
    assert saved["next_token"] and saved.get("since_id") is None
    await client.close()

    # Still spent when the next process first calls, however long it takes to start.
    twitter_api.spend_window("mentions", reset_after_refusal=2)
    client = await make_client(twitter_config())
    items = await _count(client, 5)
    assert sorted(m["text"] for m in items) == sorted(t["text"] for t in tweets)
    assert await db.messages.count_documents({}) == 5
    calls = twitter_api.calls("mentions")
    # The new process cannot know the window is spent: it learns so from one 429 and
    # then waits for the reset, resuming from the saved page both times.
    assert [c.status for c in calls[:3]] == [200, 429, 200]
    assert calls[1].query["pagination_token"] == saved["next_token"]
    assert calls[2].query["pagination_token"] == saved["next_token"]
    assert calls[2].at >= calls[1].at + 2
    await wait_for(lambda: _checkpoint(db, checkpoint, "since_id", tweets[-1]["id"]))


async def _checkpoint(db: Any, name: str, key: str, value: str) -> dict[str, Any] | None:
    doc = await db.checkpoints.find_one({"_id": name})
    return doc["value"] if doc and doc["value"].get(key) == value else None


async def test_mentions_in_one_thread_are_one_conversation_replying_to_the_latest(
    make_client, twitter_config, twitter_api, db
) -> None:
    root = twitter_api.add_mention(CUSTOMER_ID, "@acme hello")
    client = await make_client(twitter_config())
    await _count(client, 1)
    follow_up = twitter_api.add_mention(
        CUSTOMER_ID, "@acme still there?", conversation_id=root["id"], in_reply_to=root["id"]
    )
    items = await _count(client, 2)
    assert len({m["conversation_id"] for m in items}) == 1
    conversation = await db.conversations.find_one({})
    assert conversation["thread_key"] == root["id"]
    assert conversation["route"] == {"kind": "mention", "reply_to": follow_up["id"]}


async def test_spent_window_is_waited_out_until_reset(
    make_client, twitter_config, twitter_api
) -> None:
    # One call left in the window: the first poll spends it.
    reset = twitter_api.set_window("mentions", remaining=1, reset_in=2)
    twitter_api.add_mention(CUSTOMER_ID, "@acme one")
    client = await make_client(twitter_config())
    await _count(client, 1)

    async def told_to_wait() -> dict[str, Any] | None:
        stream = adapter_of(client).status()["streams"]["mentions"]
        return stream if stream["rate_limit"] else None

    status = await wait_for(told_to_wait)
    assert status["rate_limit"]["remaining"] == 0
    assert _at(status["next_poll_at"]) >= _at(reset)
    # Operators see the wait in /readyz and in metrics.
    ready = await (await client.get("/readyz")).json()
    assert _at(ready["channels"]["twitter"]["streams"]["mentions"]["next_poll_at"]) >= _at(reset)
    scrape = await (await client.get("/metrics")).text()
    line = next(
        row
        for row in scrape.splitlines()
        if row.startswith('chorus_channel_next_poll_timestamp_seconds{channel="twitter"}')
    )
    assert float(line.split()[-1]) > 0

    twitter_api.add_mention(CUSTOMER_ID, "@acme two")
    await _count(client, 2)
    calls = twitter_api.calls("mentions")
    assert calls[0].status == 200
    assert all(call.at >= reset for call in calls[1:]), [c.at - reset for c in calls]
    assert 429 not in {call.status for call in calls}


async def test_429_is_waited_out_until_reset(make_client, twitter_config, twitter_api) -> None:
    reset = twitter_api.set_window("mentions", remaining=0, reset_in=2)
    twitter_api.add_mention(CUSTOMER_ID, "@acme hello?")
    client = await make_client(twitter_config())

    async def handled_the_429() -> dict[str, Any] | None:
        # The poller records the error and its next poll in one step, after the response:
        # the fake having logged the request is not yet the client having handled it.
        stream = adapter_of(client).status()["streams"]["mentions"]
        return stream if stream["last_error"] == "rate limited" else None

    status = await wait_for(handled_the_429)
    assert _at(status["next_poll_at"]) >= _at(reset)
    await _count(client, 1)
    calls = twitter_api.calls("mentions")
    assert calls[0].status == 429
    assert [c.status for c in calls].count(429) == 1
    assert all(call.at >= reset for call in calls[1:])


async def test_own_posts_are_not_ingested(make_client, twitter_config, twitter_api, db) -> None:
    twitter_api.user(twitter_api.account_id, "Acme", "acme")
    twitter_api.add_dm(twitter_api.account_id, "our own outgoing DM")
    twitter_api.add_dm(CUSTOMER_ID, "customer DM")
    client = await make_client(twitter_config())
    items = await _count(client, 1)
    await wait_for(lambda: _async(len(twitter_api.calls("dm_events")) >= 2))
    assert [m["text"] for m in items] == ["customer DM"]
    assert await db.messages.count_documents({}) == 1


async def _async(value: Any) -> Any:
    return value


def _at(value: str | float) -> datetime:
    """A status timestamp (ISO 8601 text) or the fake's reset (epoch seconds), comparable."""
    if isinstance(value, str):
        return datetime.fromisoformat(value)
    return datetime.fromtimestamp(value, UTC)
