"""Typing and read receipts over real sockets: ephemeral, rate-limited, never a stranger's."""

from __future__ import annotations

from hub.domain import Author
from hub.state import HUB, TOKENS
from tests.helpers.hub import bearer, ensure_agent, settle
from tests.helpers.presence import agent_feed_ready, frames_before_pong, visitor_message
from tests.helpers.web_chat import next_frame


def _token(client, config, sub: str, role: str = "agent", **claims) -> str:
    ensure_agent(config, sub, role if role != "viewer" else "agent")
    return client.app[TOKENS].issue(sub, role, **claims)


async def _conversation_of(client, db, ack) -> str:
    return (await db.messages.find_one({"_id": ack["id"]}))["conversation_id"]


async def test_visitor_typing_reaches_agents_who_may_see_it_and_is_never_stored(
    client, config, db
) -> None:
    full = _token(client, config, "ada")
    telegram_only = _token(client, config, "tess", allowed_channels=["telegram"])
    async with (
        client.ws_connect("/inbox/ws") as agent,
        client.ws_connect("/inbox/ws") as restricted,
        client.ws_connect("/chat") as visitor,
    ):
        await agent_feed_ready(agent, full)
        await agent_feed_ready(restricted, telegram_only)
        ack = await visitor_message(visitor, "Hello", "c1")
        conversation_id = await _conversation_of(client, db, ack)
        await next_frame(agent, "message")
        await visitor.send_json({"type": "typing"})
        await visitor.send_json({"type": "typing"})  # within the interval: collapsed
        await visitor_message(visitor, "Are you there?", "c2")
        await settle(client)  # the feed shows the message once the change stream has it

        frames = [f for f in await frames_before_pong(agent) if f["type"] != "conversation"]
        assert [f["type"] for f in frames] == ["typing", "message"]
        assert frames[0] == {
            "type": "typing",
            "conversation_id": conversation_id,
            "who": "customer",
            "expires_in_seconds": 6.0,
        }
        assert "typing" not in [f["type"] for f in await frames_before_pong(restricted)]
        assert await db.messages.count_documents({"conversation_id": conversation_id}) == 2
        await visitor.send_json({"type": "history"})
        history = await next_frame(visitor, "history")
        assert [m["text"] for m in history["messages"]] == ["Hello", "Are you there?"]


async def test_a_visitor_cannot_name_a_conversation_nor_type_anonymously(client) -> None:
    async with client.ws_connect("/chat") as visitor:
        await visitor.send_json({"type": "typing"})
        assert (await next_frame(visitor, "error"))["code"] == "no_identity"
        await visitor_message(visitor, "Hello", "c1")
        await visitor.send_json({"type": "typing", "conversation_id": "someone-elses"})
        refused = await next_frame(visitor, "error")
        assert refused["code"] == "invalid_frame"
        await visitor.send_json({"type": "seen", "id": "x" * 65})
        assert (await next_frame(visitor, "error"))["code"] == "invalid_frame"


async def test_read_receipt_is_kept_on_the_conversation_and_sent_once(client, config, db) -> None:
    token = _token(client, config, "ada")
    async with client.ws_connect("/inbox/ws") as agent, client.ws_connect("/chat") as visitor:
        await agent_feed_ready(agent, token)
        ack = await visitor_message(visitor, "Hello", "c1")
        conversation_id = await _conversation_of(client, db, ack)
        resp = await client.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            json={"text": "Hi, how can I help?"},
            headers=bearer(client, "ada"),
        )
        reply = await resp.json()
        assert (await next_frame(visitor, "message"))["id"] == reply["id"]
        await frames_before_pong(agent)

        await visitor.send_json({"type": "seen", "id": reply["id"]})
        await visitor.send_json({"type": "seen", "id": ack["id"]})  # earlier: no news
        await visitor.send_json({"type": "seen", "id": reply["id"]})  # again: no news
        assert await frames_before_pong(visitor) == []
        frames = [f for f in await frames_before_pong(agent) if f["type"] == "seen"]
        assert [(f["type"], f["conversation_id"], f["seq"]) for f in frames] == [
            ("seen", conversation_id, reply["seq"])
        ]
    resp = await client.get(f"/api/v1/conversations/{conversation_id}", headers=bearer(client))
    assert (await resp.json())["customer_seen_seq"] == reply["seq"]


async def test_a_visitor_cannot_mark_another_visitors_reply_seen(client, db) -> None:
    async with client.ws_connect("/chat") as owner, client.ws_connect("/chat") as stranger:
        ack = await visitor_message(owner, "My order", "c1")
        conversation_id = await _conversation_of(client, db, ack)
        reply = await client.app[HUB].reply(
            conversation_id, Author(kind="agent", id="ada", name="Ada"), "It ships today"
        )
        await visitor_message(stranger, "Hi", "s1")
        await stranger.send_json({"type": "seen", "id": reply.id})
        assert (await next_frame(stranger, "error"))["code"] == "unknown_message"
        await stranger.send_json({"type": "seen", "id": "no-such-message"})
        assert (await next_frame(stranger, "error"))["code"] == "unknown_message"
    doc = await db.conversations.find_one({"_id": conversation_id})
    assert doc.get("customer_seen_seq") is None


async def test_agent_typing_reaches_the_visitor_only_from_agents_who_may_see_it(
    client, config, db
) -> None:
    ada = _token(client, config, "ada", name="Ada")
    telegram_only = _token(client, config, "tess", allowed_channels=["telegram"])
    viewer = _token(client, config, "vic", "viewer")
    async with (
        client.ws_connect("/inbox/ws") as agent,
        client.ws_connect("/inbox/ws") as restricted,
        client.ws_connect("/inbox/ws") as watching,
        client.ws_connect("/chat") as visitor,
    ):
        for ws, token in ((agent, ada), (restricted, telegram_only), (watching, viewer)):
            await agent_feed_ready(ws, token)
        ack = await visitor_message(visitor, "Hello", "c1")
        conversation_id = await _conversation_of(client, db, ack)
        frame = {"type": "typing", "conversation_id": conversation_id}

        await restricted.send_json(frame)
        assert (await next_frame(restricted, "error"))["code"] == "unknown_conversation"
        await watching.send_json(frame)
        assert (await next_frame(watching, "error"))["code"] == "forbidden"
        await agent.send_json({"type": "typing", "conversation_id": "nope"})
        assert (await next_frame(agent, "error"))["code"] == "unknown_conversation"
        await agent.send_json({"type": "typing", "conversation_id": conversation_id, "x": 1})
        assert (await next_frame(agent, "error"))["code"] == "invalid_frame"
        assert await frames_before_pong(visitor) == []

        await agent.send_json(frame)
        await agent.send_json(frame)  # within the interval: collapsed
        await frames_before_pong(agent)
        assert await frames_before_pong(visitor) == [
            {
                "type": "typing",
                "author": {"kind": "agent", "name": "Ada"},
                "expires_in_seconds": 6.0,
            }
        ]


async def test_signal_frames_spend_their_own_rate_budget(make_client, config) -> None:
    cfg = config.model_copy(deep=True)
    cfg.web.signal_burst = 2
    cfg.web.signal_refill_per_second = 0.01
    client = await make_client(cfg)
    async with client.ws_connect("/chat") as visitor:
        await visitor_message(visitor, "Hello", "c1")
        for _ in range(2):
            await visitor.send_json({"type": "typing"})
        await visitor.send_json({"type": "typing"})
        refused = await next_frame(visitor, "error")
        assert refused["code"] == "rate_limited" and refused["retry_after_seconds"] > 0
        # Messages keep their own budget.
        await visitor_message(visitor, "Still here", "c2")
