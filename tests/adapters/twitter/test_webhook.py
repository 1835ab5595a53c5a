"""Account Activity webhooks: the CRC challenge, signed deliveries, dedupe with polling."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from typing import Any

from tests.helpers.hub import bearer, wait_for
from tests.helpers.rawhttp import raw_request
from tests.helpers.twitter import CUSTOMER_ID, signature
from tests.helpers.twitter import tweet as _tweet


def _dm(event_id: str, text: str, sender_id: str = CUSTOMER_ID) -> dict[str, Any]:
    return {
        "type": "message_create",
        "id": event_id,
        "created_timestamp": "1516403560557",
        "message_create": {
            "target": {"recipient_id": "1000"},
            "sender_id": sender_id,
            "message_data": {"text": text, "entities": {"urls": [], "user_mentions": []}},
        },
    }


async def _post(client: Any, secret: str, payload: Any, sig: str | None = None) -> Any:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {"Content-Type": "application/json"}
    headers["x-twitter-webhooks-signature"] = sig or signature(secret, body)
    return await client.post("/webhooks/twitter", data=body, headers=headers)


async def test_crc_answer_matches_an_independent_computation(
    make_client, twitter_config, twitter_api
) -> None:
    client = await make_client(twitter_config(mode="webhook"))
    resp = await client.get("/webhooks/twitter", params={"crc_token": "challenge-123"})
    assert resp.status == 200
    secret = twitter_api.credentials.consumer_secret.encode()
    digest = hmac.new(secret, b"challenge-123", hashlib.sha256).digest()
    expected = "sha256=" + base64.b64encode(digest).decode()
    assert await resp.json() == {"response_token": expected}

    resp = await client.get("/webhooks/twitter")
    assert resp.status == 400
    assert (await resp.json())["error"]["code"] == "missing_crc_token"


async def test_signed_delivery_is_stored_and_redelivery_is_not(
    make_client, twitter_config, twitter_api, db, caplog
) -> None:
    caplog.set_level(logging.DEBUG, logger="hub.core.hub")
    secret = twitter_api.credentials.consumer_secret
    client = await make_client(twitter_config(mode="webhook"))
    payload = {
        "for_user_id": "1000",
        "tweet_create_events": [
            _tweet("501", "@acme help please"),
            _tweet("502", "our own tweet", user_id="1000"),
        ],
        "direct_message_events": [_dm("601", "a private question")],
        "users": {CUSTOMER_ID: {"id": CUSTOMER_ID, "name": "Ada Lovelace", "screen_name": "ada"}},
    }
    for _ in range(2):  # X redelivers when unsure
        resp = await _post(client, secret, payload)
        assert resp.status == 200

    resp = await client.get("/api/v1/messages?channel=twitter", headers=bearer(client))
    items = (await resp.json())["items"]
    assert sorted(m["text"] for m in items) == ["@acme help please", "a private question"]
    assert await db.messages.count_documents({}) == 2
    assert {doc["external_id"] async for doc in db.messages.find({})} == {"tweet:501", "dm:601"}
    # The public mention (not the DM, not the redelivery) became a comment for moderation.
    await wait_for(lambda: db.comments.count_documents({}))
    comments = await db.comments.find({}).to_list()
    assert [(c["source"], c["external"]["message_id"]) for c in comments] == [
        ("social", "tweet:501")
    ]


async def test_bad_signature_is_refused_and_nothing_stored(
    make_client, twitter_config, twitter_api, db
) -> None:
    secret = twitter_api.credentials.consumer_secret
    client = await make_client(twitter_config(mode="webhook"))
    payload = {"for_user_id": "1000", "tweet_create_events": [_tweet("501", "@acme hi")]}
    body = json.dumps(payload).encode()

    for sig in ["sha256=" + base64.b64encode(b"x" * 32).decode(), signature("wrong", body)]:
        resp = await _post(client, secret, body, sig=sig)
        assert resp.status == 401
        assert (await resp.json())["error"]["code"] == "invalid_signature"
    resp = await client.post("/webhooks/twitter", data=body)  # no signature at all
    assert resp.status == 401
    # A valid signature over a different body does not carry over.
    resp = await _post(client, secret, body + b" ", sig=signature(secret, body))
    assert resp.status == 401

    resp = await _post(client, secret, b"{not json")
    assert resp.status == 400
    assert (await resp.json())["error"]["code"] == "invalid_json"
    resp = await _post(client, secret, b"x" * (300 * 1024))
    assert resp.status == 413
    assert await db.messages.count_documents({}) == 0
    assert await db.contacts.count_documents({}) == 0


async def test_webhook_reply_to_our_reply_stays_in_the_conversation(
    make_client, twitter_config, twitter_api, db
) -> None:
    secret = twitter_api.credentials.consumer_secret
    client = await make_client(twitter_config(mode="webhook"))
    await _post(client, secret, {"tweet_create_events": [_tweet("501", "@acme my parcel?")]})
    conversation = await db.conversations.find_one({})
    resp = await client.post(
        f"/api/v1/conversations/{conversation['_id']}/messages",
        json={"text": "On its way!"},
        headers=bearer(client),
    )
    assert resp.status == 201
    reply_id = (await resp.json())["id"]
    await wait_for(lambda: _sent(db, reply_id))
    ours = twitter_api.posted_tweets[0]
    assert ours["in_reply_to"] == "501"

    # The customer answers our tweet; v1.1 payloads name only the tweet replied to.
    answer = _tweet("503", "@acme thanks!", in_reply_to_status_id_str=ours["id"])
    await _post(client, secret, {"tweet_create_events": [answer]})
    assert await db.conversations.count_documents({}) == 1
    conversation = await db.conversations.find_one({})
    assert conversation["route"] == {"kind": "mention", "reply_to": "503"}


async def test_tweet_seen_by_webhook_then_by_polling_is_stored_once(
    make_client, twitter_config, twitter_api, db
) -> None:
    tweet = twitter_api.add_mention(CUSTOMER_ID, "@acme seen twice")
    secret = twitter_api.credentials.consumer_secret
    client = await make_client(twitter_config(mode="webhook"))
    resp = await _post(
        client, secret, {"tweet_create_events": [_tweet(tweet["id"], tweet["text"])]}
    )
    assert resp.status == 200
    await client.close()

    client = await make_client(twitter_config(mode="polling"))
    await wait_for(lambda: _present(twitter_api.calls("mentions")))
    await wait_for(lambda: _checkpoint_at(db, tweet["id"]))
    assert await db.messages.count_documents({"external_id": f"tweet:{tweet['id']}"}) == 1


async def _sent(db: Any, message_id: str) -> bool:
    doc = await db.messages.find_one({"_id": message_id})
    return doc["delivery"]["status"] == "sent"


async def _present(value: Any) -> Any:
    return value


async def _checkpoint_at(db: Any, since_id: str) -> bool:
    doc = await db.checkpoints.find_one({"_id": "twitter:mentions:1000"})
    return bool(doc and doc["value"].get("since_id") == since_id)


async def test_crc_endpoint_signs_no_delivery_so_a_forged_one_is_refused(
    make_client, twitter_config, twitter_api, db
) -> None:
    """The attack: ask the CRC endpoint to sign a delivery body, then POST it with that."""
    client = await make_client(twitter_config(mode="webhook"))
    forged = json.dumps(
        {"for_user_id": "1000", "direct_message_events": [_dm("666", "forged order")]}
    )
    crc = await client.get("/webhooks/twitter", params={"crc_token": forged})
    answer = await crc.json()
    resp = await client.post(
        "/webhooks/twitter",
        data=forged.encode(),
        headers={
            "Content-Type": "application/json",
            "x-twitter-webhooks-signature": answer.get("response_token", "sha256="),
        },
    )
    assert resp.status == 401
    assert await db.messages.count_documents({}) == 0
    assert await db.contacts.count_documents({}) == 0
    assert crc.status == 400
    assert answer["error"]["code"] == "invalid_crc_token"

    # Only X-shaped tokens are answered: base64(url) of bounded length.
    for token in ["{}", "a b", "x" * 131, "abc\n", "a.b", "%7B"]:
        resp = await client.get("/webhooks/twitter", params={"crc_token": token})
        assert resp.status == 400, token
        assert (await resp.json())["error"]["code"] == "invalid_crc_token"
    real_shape = base64.b64encode(b"3dd82dfc-b9db-46d8-940e-3bcc903d8244").decode()
    resp = await client.get("/webhooks/twitter", params={"crc_token": real_shape})
    assert resp.status == 200


async def test_signed_delivery_written_in_two_parts_is_read_whole(
    make_client, twitter_config, twitter_api, db
) -> None:
    secret = twitter_api.credentials.consumer_secret
    client = await make_client(twitter_config(mode="webhook"))
    padding = {"id": "pad", "note": "x" * 150_000}  # an event type the hub ignores
    payload = {
        "for_user_id": "1000",
        "direct_message_events": [_dm("602", "a long one")],
        "favorite_events": [padding],
    }
    body = json.dumps(payload).encode()
    head = (
        b"POST /webhooks/twitter HTTP/1.1\r\nHost: localhost\r\n"
        b"Content-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n".encode()
        + f"x-twitter-webhooks-signature: {signature(secret, body)}".encode()
    )
    half = len(body) // 2
    assert client.server.host is not None and client.server.port is not None
    resp = await raw_request(
        client.server.host,
        client.server.port,
        head,
        (body[:half], body[half:]),
        wait_for_continue=True,
    )
    assert resp.status == 200, resp.body
    assert resp.json() == {"received": 1}
    assert await db.messages.count_documents({"external_id": "dm:602"}) == 1
