"""Agents' images onto X: uploaded with X API v2's ``POST /2/media/upload`` (one-shot,
``tweet_image`` or ``dm_image``), then named by the reply tweet or DM. The fake keeps X's
limits (types, 5 MB, four images a post, one a DM)."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from tweepy.errors import BadRequest

from adapters.twitter.client import TwitterApiClient
from tests.helpers.hub import bearer, wait_for
from tests.helpers.media import form, png
from tests.helpers.twitter import CUSTOMER_ID


async def _conversation(db: Any, thread_key: str) -> str:
    async def stored() -> Any:
        return await db.conversations.find_one({"thread_key": thread_key})

    return str((await wait_for(stored))["_id"])


async def _reply_with_files(client: Any, db: Any, conversation_id: str, *files: Any,
                            text: str) -> dict[str, Any]:  # fmt: skip
    resp = await client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        data=form(*files, text=text),
        headers=bearer(client, sub="agent-bo"),
    )
    assert resp.status == 201, await resp.text()
    message_id = (await resp.json())["id"]

    async def settled() -> Any:
        doc = await db.messages.find_one({"_id": message_id})
        return doc["delivery"] if doc["delivery"]["status"] in ("sent", "failed") else None

    delivery: dict[str, Any] = await wait_for(settled, within=15)
    return delivery


async def test_an_agent_image_rides_on_the_dm(make_client, twitter_config, twitter_api, db):
    twitter_api.add_dm(CUSTOMER_ID, "what does the box look like?")
    client = await make_client(twitter_config())
    conversation_id = await _conversation(db, f"dm:{CUSTOMER_ID}")
    delivery = await _reply_with_files(
        client, db, conversation_id, ("box.png", png(400, 300)), text="Like this"
    )
    assert delivery["status"] == "sent", delivery
    ((media_id, upload),) = twitter_api.uploads.items()
    assert (upload["category"], upload["media_type"]) == ("dm_image", "image/png")
    assert upload["content"] == png(400, 300)
    assert twitter_api.sent_dms == [
        {"id": delivery["platform_id"], "participant_id": CUSTOMER_ID, "text": "Like this",
         "media_ids": [media_id]}
    ]  # fmt: skip


async def test_a_reply_tweet_carries_the_images_on_its_first_post(
    make_client, twitter_config, twitter_api, db
):
    mention = twitter_api.add_mention(CUSTOMER_ID, "@acme which colours are there?")
    client = await make_client(twitter_config())
    conversation_id = await _conversation(db, mention["id"])
    long_text = "Here are the colours we have this season. " * 10  # a thread of parts
    delivery = await _reply_with_files(
        client, db, conversation_id, ("red.png", png(10, 10)), ("blue.png", png(20, 20)),
        text=long_text,
    )  # fmt: skip
    assert delivery["status"] == "sent", delivery
    first, *rest = twitter_api.posted_tweets
    assert rest and all("media_ids" not in tweet for tweet in rest)
    assert first["id"] == delivery["platform_id"]
    assert [twitter_api.uploads[i]["content"] for i in first["media_ids"]] == [
        png(10, 10), png(20, 20)
    ]  # fmt: skip
    assert {u["category"] for u in twitter_api.uploads.values()} == {"tweet_image"}


async def test_more_images_than_a_dm_holds_fail_before_anything_is_sent(
    make_client, twitter_config, twitter_api, db
):
    twitter_api.add_dm(CUSTOMER_ID, "photos please")
    client = await make_client(twitter_config())
    conversation_id = await _conversation(db, f"dm:{CUSTOMER_ID}")
    delivery = await _reply_with_files(
        client, db, conversation_id, ("a.png", png(10, 10)), ("b.png", png(12, 12)), text="two"
    )
    assert delivery["status"] == "failed"
    assert delivery["reason"] == "X allows at most 1 image(s) on a DM"
    assert twitter_api.uploads == {} and twitter_api.sent_dms == []


async def test_the_fake_refuses_media_x_refuses(twitter_api) -> None:
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
        gif = b"GIF89a" + b"\x00" * 64  # GIFs need the chunked upload
        with pytest.raises(BadRequest, match="Unsupported media type"):
            await client.upload_image(gif, "image/gif", for_dm=False)
        huge = png(10, 10) + b"\x00" * (5 * 1024 * 1024)
        with pytest.raises(BadRequest, match="File size exceeds"):
            await client.upload_image(huge, "image/png", for_dm=False)
        with pytest.raises(BadRequest, match="media IDs are invalid"):
            await client.create_tweet(text="x", media_ids=["123"], user_auth=True)
        ids = [await client.upload_image(png(5, 5), "image/png", for_dm=False) for _ in range(5)]
        with pytest.raises(BadRequest, match="At most 4"):
            await client.create_tweet(text="five", media_ids=ids, user_auth=True)
        body = {"media": base64.b64encode(png(5, 5)).decode(), "media_category": "photo"}
        with pytest.raises(BadRequest, match="media_category"):
            await client._make_request("POST", "/2/media/upload", json=body, user_auth=True)
        assert twitter_api.posted_tweets == []
    finally:
        await client.close()
