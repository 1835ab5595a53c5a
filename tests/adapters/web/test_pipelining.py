"""A visitor's fast messages share writes: a message does not wait for the ones before it
to be stored before it is read, and acks still come back in the order sent."""

from __future__ import annotations

from typing import Any

from tests.helpers.commands import COMMANDS
from tests.helpers.hub import settle
from tests.helpers.web_chat import next_frame


async def test_a_burst_from_one_socket_is_stored_in_shared_writes_acked_in_order(
    client: Any, db: Any
) -> None:
    async with client.ws_connect("/chat") as ws:
        await ws.send_json({"type": "message", "text": "hello", "client_id": "c-first"})
        await next_frame(ws, "ack")
        await settle(client)
        with COMMANDS.recording(db.name):
            for n in range(8):
                await ws.send_json({"type": "message", "text": f"burst {n}", "client_id": f"c{n}"})
            acks = [(await next_frame(ws, "ack"))["client_id"] for _ in range(8)]
    assert acks == [f"c{n}" for n in range(8)]
    # Read one by one, the eight would be eight inserts; in flight together, they share.
    assert COMMANDS.count("insert", "messages") <= 3, COMMANDS.commands
    stored = await db.messages.find({"client_id": {"$regex": "^c[0-9]"}}).sort("seq", 1).to_list()
    assert [doc["text"] for doc in stored] == [f"burst {n}" for n in range(8)]
