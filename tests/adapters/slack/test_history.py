"""A Slack customer's edits and deletions change what the message shows, never its history,
and each one is a ``message.updated`` webhook event."""

from __future__ import annotations

from typing import Any

from tests.helpers.hub import bearer, wait_for
from tests.helpers.slack import SlackSender
from tests.helpers.webhooks import register

DM = "D0GRACE"


def _changed(original: dict[str, Any], text: str, edit_ts: str) -> dict[str, Any]:
    """A ``message_changed`` event as Slack's docs show it (``hidden``, the new ``message``)."""
    return {
        "type": "message",
        "subtype": "message_changed",
        "hidden": True,
        "channel": DM,
        "channel_type": "im",
        "ts": edit_ts,
        "event_ts": edit_ts,
        "message": {
            "type": "message",
            "user": original["user"],
            "text": text,
            "ts": original["ts"],
            "edited": {"user": original["user"], "ts": edit_ts},
        },
        "previous_message": {
            "type": "message",
            "user": original["user"],
            "text": original["text"],
            "ts": original["ts"],
        },
    }


def _deleted(original: dict[str, Any], delete_ts: str) -> dict[str, Any]:
    return {
        "type": "message",
        "subtype": "message_deleted",
        "hidden": True,
        "channel": DM,
        "channel_type": "im",
        "ts": delete_ts,
        "event_ts": delete_ts,
        "deleted_ts": original["ts"],
        "previous_message": {
            "type": "message",
            "user": original["user"],
            "text": original["text"],
            "ts": original["ts"],
        },
    }


async def test_edits_and_deletion_keep_every_version(
    make_client, slack_config, slack_api, db, aiohttp_server
) -> None:
    from tests.helpers.webhooks import Receiver

    slack_config.webhooks.allow_private_addresses = True
    slack_config.webhooks.base_delay_seconds = 0.02
    receiver = Receiver()
    server = await aiohttp_server(receiver.app)
    client = await make_client(slack_config)
    slack = SlackSender(client, slack_api)
    await register(client, str(server.make_url("/hook")), ["message.updated"])

    original = slack.dm(slack_api.user_id("Grace"), DM, "my order is 1234")
    assert (await slack.event(original)).status == 200
    assert (await slack.event(_changed(original, "my order is 1243", slack.ts()))).status == 200
    again = _changed(original, "my order is 1243", slack.ts())
    assert (await slack.event(again)).status == 200  # the same edit again changes nothing
    assert (await slack.event(_deleted(original, slack.ts()))).status == 200

    assert await db.messages.count_documents({}) == 1
    doc = await db.messages.find_one({})
    assert doc["text"] == "" and doc["deleted_at"] is not None
    assert [e["text"] for e in doc["edits"]] == ["my order is 1234", "my order is 1243"]
    resp = await client.get(f"/api/v1/messages/{doc['_id']}", headers=bearer(client))
    shown = await resp.json()
    assert shown["deleted_at"] and shown["text"] == ""
    assert [e["text"] for e in shown["edits"]] == ["my order is 1234", "my order is 1243"]

    async def two_updates() -> Any:
        events = receiver.accepted()
        return events if len(events) == 2 else None

    events = await wait_for(two_updates)
    latest = sorted((e["data"]["message"] for e in events), key=lambda m: len(m["edits"]))
    assert latest[0]["text"] == "my order is 1243" and latest[0]["deleted_at"] is None
    assert latest[1]["text"] == "" and latest[1]["deleted_at"]


async def test_an_edit_of_a_message_never_stored_stores_nothing(
    make_client, slack_config, slack_api, db
) -> None:
    client = await make_client(slack_config)
    slack = SlackSender(client, slack_api)
    unseen = {"user": slack_api.user_id("Grace"), "ts": "1.000001", "text": "old"}
    assert (await slack.event(_changed(unseen, "new", slack.ts()))).status == 200
    assert (await slack.event(_deleted(unseen, slack.ts()))).status == 200
    assert await db.messages.count_documents({}) == 0
