"""Requests claiming to be from Slack: signatures, freshness, url_verification, retries."""

from __future__ import annotations

import json
import logging
import time
from urllib.parse import urlencode

from tests.fakes.slack_api import FakeSlackApi, event_callback, signed_headers
from tests.helpers.slack import ADA, SIGNING_SECRET, SlackSender, open_thread, quiet

DM = "D0GRACE"
CUSTOMER = "U0GRACE"


async def test_url_verification_is_answered(client, slack: SlackSender) -> None:
    body = json.dumps(
        {
            "token": "t",
            "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
            "type": "url_verification",
        }
    )
    resp = await slack.post("/webhooks/slack/events", body, "application/json")
    assert resp.status == 200
    answer = await resp.json()
    assert answer == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}


async def test_bad_and_stale_signatures_are_refused_and_nothing_is_stored(
    client, db, slack: SlackSender, slack_api: FakeSlackApi
) -> None:
    path = "/webhooks/slack/events"
    body = json.dumps(event_callback(slack.dm(CUSTOMER, DM, "let me in"), "Ev0FORGED"))
    json_type = {"Content-Type": "application/json"}
    six_minutes_ago = int(time.time()) - 6 * 60
    tampered = {**json_type, **signed_headers(SIGNING_SECRET, body)}
    refused = [
        await slack.post(path, body, "application/json", secret="not-the-secret"),
        await slack.post(path, body, "application/json", timestamp=six_minutes_ago),
        await client.post(path, data=body, headers=json_type),
        await client.post(path, data=body.replace("let me in", "let me in!"), headers=tampered),
        await slack.post(
            "/webhooks/slack/commands",
            urlencode({"command": "/chorus", "text": "", "user_id": ADA}),
            "application/x-www-form-urlencoded",
            secret="not-the-secret",
        ),
        await slack.post(
            "/webhooks/slack/interactions",
            urlencode({"payload": json.dumps({"type": "block_actions", "actions": []})}),
            "application/x-www-form-urlencoded",
            timestamp=six_minutes_ago,
        ),
    ]
    for resp in refused:
        assert resp.status == 401
        assert (await resp.json())["error"]["code"] == "invalid_signature"

    await quiet(client)
    assert await db.messages.count_documents({}) == 0
    assert await db.seen_events.count_documents({}) == 0
    assert slack_api.calls == []


async def test_malformed_signature_headers_are_refused_without_a_traceback(
    client, db, slack: SlackSender, caplog
) -> None:
    body = json.dumps(event_callback(slack.dm(CUSTOMER, DM, "let me in"), "Ev0MALFORMED"))
    signed = signed_headers(SIGNING_SECRET, body)
    malformed = [
        {**signed, "X-Slack-Request-Timestamp": "abc"},
        {**signed, "X-Slack-Request-Timestamp": signed["X-Slack-Request-Timestamp"] + ".0"},
        {**signed, "X-Slack-Request-Timestamp": "1796187536.0"},
        {**signed, "X-Slack-Signature": "v0=é" + signed["X-Slack-Signature"][4:]},
    ]
    for headers in malformed:
        resp = await client.post(
            "/webhooks/slack/events",
            data=body.encode(),
            headers={"Content-Type": "application/json", **headers},
        )
        assert resp.status == 401, headers
        assert (await resp.json())["error"]["code"] == "invalid_signature"
    resp = await client.post(
        "/webhooks/slack/events",
        data=b'{"type": "\xff"}',
        headers={"Content-Type": "application/json", **signed_headers(SIGNING_SECRET, "")},
    )
    assert resp.status == 401
    await quiet(client)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert await db.messages.count_documents({}) == 0


async def test_retried_dm_event_is_stored_once(client, db, slack: SlackSender) -> None:
    event = slack.dm(CUSTOMER, DM, "hello?")
    first = await slack.event(event, event_id="Ev0DM1")
    retry = await slack.event(event, event_id="Ev0DM1", retry_num=1)
    again = await slack.event(event, event_id="Ev0DM1", retry_num=2)
    assert [first.status, retry.status, again.status] == [200, 200, 200]
    assert await db.messages.count_documents({}) == 1


async def test_retried_thread_reply_is_stored_and_sent_once(
    client, db, slack: SlackSender, slack_api: FakeSlackApi
) -> None:
    _, header_ts = await open_thread(client, db, slack_api)
    event = slack.thread_reply(ADA, header_ts, "On its way")
    assert (await slack.event(event, event_id="Ev0REPLY")).status == 200
    assert (await slack.event(event, event_id="Ev0REPLY", retry_num=1)).status == 200
    # Even under a new event id (a second delivery path), the Slack message id dedupes.
    assert (await slack.event(event, event_id="Ev0OTHER")).status == 200
    await quiet(client)
    assert await db.messages.count_documents({"direction": "outbound"}) == 1


async def test_event_types_chorus_does_not_handle_are_acknowledged(
    client, db, slack: SlackSender
) -> None:
    mention = {"type": "app_mention", "user": ADA, "text": "<@U0CHORUSBOT> hi", "ts": slack.ts()}
    mention["channel"] = "C0GENERAL"
    resp = await slack.event(mention)
    assert resp.status == 200
    top_level = {**slack.dm(ADA, "C0GENERAL", "chatter"), "channel_type": "channel"}
    assert (await slack.event(top_level)).status == 200
    await quiet(client)
    assert await db.messages.count_documents({}) == 0
