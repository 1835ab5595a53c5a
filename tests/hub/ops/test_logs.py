"""One message followed end to end by its id; no secrets or bodies at INFO."""

from __future__ import annotations

import io
import json
import logging

from hub.runtime.logs import JsonFormatter, RedactionFilter, install_log_context, record_fields
from tests.helpers.hub import bearer, wait_for
from tests.helpers.web_chat import next_frame


def _stages(records: list[logging.LogRecord], **wanted: str) -> dict[str, list[str]]:
    """Logger name → messages of the records whose fields include ``wanted``."""
    found: dict[str, list[str]] = {}
    for record in records:
        fields = record_fields(record)
        if all(fields.get(k) == v for k, v in wanted.items()):
            found.setdefault(record.name, []).append(record.getMessage())
    return found


async def test_inbound_message_id_runs_through_adapter_core_and_storage(client, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    async with client.ws_connect("/chat") as ws:
        await ws.send_json({"type": "message", "text": "where is it?", "client_id": "c1"})
        ack = await next_frame(ws, "ack")
    stages = _stages(caplog.records, message_id=ack["id"])
    assert "inbound stored" in stages["hub.core.hub"]
    assert "storage command" in stages["hub.runtime.metrics"]  # the insert, under the message's id
    assert "web chat message acknowledged" in stages["adapters.web.adapter"]
    # The frame's trace id ties the adapter's first line (before the id existed) to the rest.
    received = next(r for r in caplog.records if r.getMessage() == "web chat message received")
    trace = record_fields(received)["trace_id"]
    by_trace = _stages(caplog.records, trace_id=trace)
    assert {"adapters.web.adapter", "hub.core.hub", "hub.runtime.metrics"} <= set(by_trace)


async def test_reply_id_runs_through_core_storage_and_push(client, db, caplog) -> None:
    async with client.ws_connect("/chat") as ws:
        await ws.send_json({"type": "message", "text": "hello", "client_id": "c1"})
        ack = await next_frame(ws, "ack")
        doc = await db.messages.find_one({"_id": ack["id"]})
        caplog.set_level(logging.DEBUG)
        resp = await client.post(
            f"/api/v1/conversations/{doc['conversation_id']}/messages",
            json={"text": "On its way."},
            headers={**bearer(client), "X-Request-Id": "req-42"},
        )
        assert resp.headers["X-Request-Id"] == "req-42"
        reply = await resp.json()
        await next_frame(ws, "message")

    async def pushed() -> bool:
        return "web chat reply pushed" in _stages(caplog.records, message_id=reply["id"]).get(
            "adapters.web.adapter", []
        )

    await wait_for(pushed)
    # A web reply is stored as sent (the widget reads the store): the outbox never sees it.
    found = await db.messages.find_one({"_id": reply["id"]})
    assert found["delivery"]["status"] == "sent"
    stages = _stages(caplog.records, message_id=reply["id"])
    assert "outbound stored" in stages["hub.core.hub"]
    assert "storage command" in stages["hub.runtime.metrics"]
    assert "hub.core.outbox" not in stages
    # The API request's id reaches the core and the storage commands of that request.
    assert {"hub.core.hub", "hub.runtime.metrics"} <= set(
        _stages(caplog.records, trace_id="req-42")
    )


async def test_info_lines_carry_no_bodies_or_tokens(client) -> None:
    install_log_context()
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(RedactionFilter())
    handler.setFormatter(JsonFormatter())
    handler.setLevel(logging.INFO)
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.DEBUG)
    try:
        async with client.ws_connect("/chat") as ws:
            await ws.send_json(
                {"type": "message", "text": "my card is 4111-1111", "client_id": "a"}
            )
            token = (await next_frame(ws, "welcome"))["visitor_token"]
            await next_frame(ws, "ack")
        logging.getLogger("chorus.test").info(
            "visitor %s connected with Bearer %s",
            "v1",
            token,
            extra={"visitor_token": token, "text": "my card is 4111-1111", "password": "hunter2"},
        )
        logging.getLogger("chorus.test").info("db at mongodb://chorus:s3cret@db1:27017/chorus")
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    written = out.getvalue()
    lines = [json.loads(line) for line in written.splitlines()]
    assert any(line["msg"] == "inbound stored" for line in lines)  # INFO lines were written
    assert "4111-1111" not in written
    assert token not in written and "hunter2" not in written and "s3cret" not in written
    # The hub may still be logging (the socket closing): pick this test's lines by logger.
    visitor, database = [line for line in lines if line["logger"] == "chorus.test"]
    assert visitor["visitor_token"] == "[redacted]" and visitor["text"] == "[redacted]"
    assert "Bearer [redacted]" in visitor["msg"]
    assert "mongodb://[redacted]@db1" in database["msg"]


def test_bodies_stay_visible_at_debug() -> None:
    record = logging.LogRecord("t", logging.DEBUG, __file__, 1, "frame", None, None)
    record.text = "hello there"
    record.api_key = "k-123"
    RedactionFilter().filter(record)
    assert record.text == "hello there"
    assert record.api_key == "[redacted]"
