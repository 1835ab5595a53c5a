"""Mirroring into a conversation's Slack thread reads nothing again, per message."""

from __future__ import annotations

from typing import Any

from tests.fakes.slack_api import FakeSlackApi
from tests.helpers.commands import COMMANDS
from tests.helpers.slack import (
    hand_off,
    next_frame,
    quiet,
    slack_calls,
    web_customer_writes,
)


async def test_mirrors_read_neither_the_thread_link_nor_the_contact_again(
    client: Any, db: Any, slack_api: FakeSlackApi
) -> None:
    async with client.ws_connect("/chat") as ws:
        conversation_id = await web_customer_writes(client, ws, "Hello")
        header_ts = await hand_off(client, db, slack_api, conversation_id)
        await ws.send_json({"type": "message", "text": "first", "client_id": "m1"})
        await next_frame(ws, "ack")
        await slack_calls(slack_api, "chat.postMessage", thread_ts=header_ts)
        await quiet(client)
        with COMMANDS.recording(db.name):
            for n in range(3):
                await ws.send_json({"type": "message", "text": f"more {n}", "client_id": f"x{n}"})
                await next_frame(ws, "ack")
            mirrors = await slack_calls(slack_api, "chat.postMessage", 4, thread_ts=header_ts)
            await quiet(client)
    assert [m.args["text"] for m in mirrors[1:]] == [f"*Grace*: more {n}" for n in range(3)]
    assert COMMANDS.count("find", "links") == 0, COMMANDS.commands
    # The inbound writer's identity look-ups, one per message (the webhook sender's scan
    # of owed events is per pass, not per message).
    identity_reads = [
        c for c in COMMANDS.commands if c[1] == "contacts" and "identity_keys" in c[2]["filter"]
    ]
    assert len(identity_reads) <= 3, identity_reads
    assert COMMANDS.reads_by_id("contacts") == 0
