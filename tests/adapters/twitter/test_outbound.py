"""Agent replies reach the fake X API: reply tweets (threads when long) and DMs."""

from __future__ import annotations

from typing import Any

import pytest
from tweepy.errors import BadRequest, Unauthorized

from adapters.twitter.client import TwitterApiClient
from tests.helpers.hub import bearer, wait_for
from tests.helpers.media import PDF, form
from tests.helpers.twitter import CUSTOMER_ID


async def _conversation(client: Any, db: Any, thread_key: str) -> str:
    async def stored() -> Any:
        return await db.conversations.find_one({"thread_key": thread_key})

    return str((await wait_for(stored))["_id"])


async def _reply(client: Any, conversation_id: str, text: str) -> str:
    resp = await client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"text": text},
        headers=bearer(client, sub="agent-bo"),
    )
    assert resp.status == 201
    return str((await resp.json())["id"])


async def _delivery(db: Any, message_id: str, status: str = "sent") -> dict[str, Any]:
    async def settled() -> Any:
        doc = await db.messages.find_one({"_id": message_id})
        return doc["delivery"] if doc["delivery"]["status"] == status else None

    return await wait_for(settled)


async def _mention_conversation(
    make_client: Any, twitter_config: Any, twitter_api: Any, db: Any, text: str
) -> tuple[Any, dict[str, Any], str]:
    """A hub that has polled one mention: (client, the mention, its conversation id)."""
    mention = twitter_api.add_mention(CUSTOMER_ID, text)
    client = await make_client(twitter_config())
    return client, mention, await _conversation(client, db, mention["id"])


async def test_reply_to_a_mention_is_a_reply_tweet_to_the_latest_mention(
    make_client, twitter_config, twitter_api, db
) -> None:
    root = twitter_api.add_mention(CUSTOMER_ID, "@acme is the shop open?")
    later = twitter_api.add_mention(
        CUSTOMER_ID, "@acme hello??", conversation_id=root["id"], in_reply_to=root["id"]
    )
    client = await make_client(twitter_config())
    conversation_id = await _conversation(client, db, root["id"])
    await wait_for(lambda: _route_is(db, later["id"]))

    message_id = await _reply(client, conversation_id, "Yes, until 6pm.")
    delivery = await _delivery(db, message_id)
    assert twitter_api.posted_tweets == [
        {"id": delivery["platform_id"], "text": "Yes, until 6pm.", "in_reply_to": later["id"]}
    ]


async def test_reply_in_a_dm_conversation_is_a_dm(
    make_client, twitter_config, twitter_api, db
) -> None:
    twitter_api.add_dm(CUSTOMER_ID, "psst, my account number is 42")
    client = await make_client(twitter_config())
    conversation_id = await _conversation(client, db, f"dm:{CUSTOMER_ID}")

    message_id = await _reply(client, conversation_id, "Thanks, checking.")
    delivery = await _delivery(db, message_id)
    assert twitter_api.sent_dms == [
        {"id": delivery["platform_id"], "participant_id": CUSTOMER_ID, "text": "Thanks, checking."}
    ]
    assert twitter_api.posted_tweets == []


async def test_long_reply_goes_out_as_a_numbered_thread(
    make_client, twitter_config, twitter_api, db
) -> None:
    client, mention, conversation_id = await _mention_conversation(
        make_client, twitter_config, twitter_api, db, "@acme explain the refund policy"
    )
    text = " ".join(f"Refunds step {n} is described here." for n in range(20))  # ~660 chars

    message_id = await _reply(client, conversation_id, text)
    delivery = await _delivery(db, message_id)
    posted = twitter_api.posted_tweets
    assert len(posted) == 3
    assert [t["text"].rsplit(" ", 1)[1] for t in posted] == ["1/3", "2/3", "3/3"]
    assert " ".join(t["text"].rsplit(" ", 1)[0] for t in posted) == text
    assert [t["in_reply_to"] for t in posted] == [mention["id"], posted[0]["id"], posted[1]["id"]]
    assert delivery["platform_id"] == posted[0]["id"]


async def test_thread_interrupted_by_a_server_error_resumes_without_repeating(
    make_client, twitter_config, twitter_api, db
) -> None:
    client, _mention, conversation_id = await _mention_conversation(
        make_client, twitter_config, twitter_api, db, "@acme long answer please"
    )
    # Part 1 goes out; part 2 meets a 503, as X sometimes answers.
    twitter_api.script("create_tweet", 201, {"data": {"id": "1", "text": "placeholder"}})
    twitter_api.script(
        "create_tweet", 503, {"title": "Service Unavailable", "detail": "Service Unavailable"}
    )
    text = "word " * 100
    message_id = await _reply(client, conversation_id, text.strip())
    await _delivery(db, message_id)
    calls = twitter_api.calls("create_tweet")
    assert [c.status for c in calls] == [201, 503, 201]
    # The retry continues with part 2, replying to part 1: no part is posted twice.
    assert calls[1].body == calls[2].body
    assert calls[2].body["reply"] == {"in_reply_to_tweet_id": "1"}


async def test_rate_limited_reply_waits_for_reset_then_goes_out(
    make_client, twitter_config, twitter_api, db
) -> None:
    client, _mention, conversation_id = await _mention_conversation(
        make_client, twitter_config, twitter_api, db, "@acme hi"
    )
    reset = twitter_api.set_window("create_tweet", remaining=0, reset_in=2)

    message_id = await _reply(client, conversation_id, "Hello!")
    await _delivery(db, message_id)
    calls = twitter_api.calls("create_tweet")
    assert [c.status for c in calls] == [429, 201]
    assert calls[1].at >= reset


async def test_client_error_fails_with_the_api_detail(
    make_client, twitter_config, twitter_api, db
) -> None:
    client, _mention, conversation_id = await _mention_conversation(
        make_client, twitter_config, twitter_api, db, "@acme hi"
    )
    twitter_api.posted_tweets.append({"id": "9", "text": "Same text", "in_reply_to": None})

    message_id = await _reply(client, conversation_id, "Same text")
    delivery = await _delivery(db, message_id, status="failed")
    assert delivery["reason"] == (
        "X API 403: You are not allowed to create a Tweet with duplicate content."
    )
    assert [c.status for c in twitter_api.calls("create_tweet")] == [403]


async def _route_is(db: Any, tweet_id: str) -> bool:
    doc = await db.conversations.find_one({})
    return bool(doc and doc["route"].get("reply_to") == tweet_id)


async def test_reply_with_links_and_cjk_goes_out_in_parts_x_accepts(
    make_client, twitter_config, twitter_api, db
) -> None:
    # Bare domains weigh 23 and CJK 2 at X: counted as plain characters, parts are refused.
    client, _, conversation_id = await _mention_conversation(
        make_client, twitter_config, twitter_api, db, "@acme where do I read about it?"
    )
    text = " ".join(f"第{n}步 see acme.co/help" for n in range(24))
    delivery = await _delivery(db, await _reply(client, conversation_id, text))
    posted = [t["text"] for t in twitter_api.posted_tweets]
    assert len(posted) > 1 and delivery["platform_id"] == twitter_api.posted_tweets[0]["id"]
    assert " ".join(part.rsplit(" ", 1)[0] for part in posted) == text
    assert [c.status for c in twitter_api.calls("create_tweet")] == [201] * len(posted)


async def test_the_fake_refuses_what_x_refuses(twitter_api) -> None:
    creds = twitter_api.credentials
    client = TwitterApiClient(
        twitter_api.base_url,
        consumer_key=creds.consumer_key,
        consumer_secret=creds.consumer_secret,
        access_token=creds.access_token,
        access_token_secret=creds.access_token_secret,
    )
    await client.open()
    try:
        # 141 CJK characters weigh 282: too long, though len() is 141.
        with pytest.raises(BadRequest, match="too long"):
            await client.create_tweet(text="中" * 141, user_auth=True)
        await client.create_tweet(text="中" * 140, user_auth=True)
        for endpoint, too_few, too_many in (("mentions", 4, 101), ("dm_events", 0, 101)):
            for size in (too_few, too_many):
                with pytest.raises(BadRequest, match="max_results"):
                    if endpoint == "mentions":
                        await client.get_users_mentions(
                            twitter_api.account_id, max_results=size, user_auth=True
                        )
                    else:
                        await client.get_direct_message_events(max_results=size, user_auth=True)
        # A request signed with the wrong secret is refused (oauthlib verifies the fake's side).
        client.access_token_secret = "not-the-secret"
        with pytest.raises(Unauthorized):
            await client.get_direct_message_events(user_auth=True)
    finally:
        await client.close()


async def test_a_reply_with_a_stored_file_fails_with_the_reason(
    make_client, twitter_config, twitter_api, db
) -> None:
    twitter_api.add_dm(CUSTOMER_ID, "can you send the invoice?")
    client = await make_client(twitter_config())
    conversation_id = await _conversation(client, db, f"dm:{CUSTOMER_ID}")
    resp = await client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        data=form(("invoice.pdf", PDF), text="here"),
        headers=bearer(client, sub="agent-bo"),
    )
    assert resp.status == 201
    delivery = await _delivery(db, str((await resp.json())["id"]), "failed")
    reason = delivery["reason"]
    assert reason.startswith("X cannot carry invoice.pdf (application/pdf)"), reason
    assert "send a link to the file instead" in reason
    assert twitter_api.sent_dms == [] and twitter_api.uploads == {}
