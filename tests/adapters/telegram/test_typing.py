"""An agent typing in a Telegram conversation shows ``typing`` in the chat (sendChatAction)."""

from __future__ import annotations

from hub.state import TOKENS
from tests.helpers.hub import bearer, ensure_agent, wait_for
from tests.helpers.presence import agent_feed_ready
from tests.helpers.telegram import CHAT_ID, post_update, text_update


async def test_agent_typing_sends_chat_action_typing(tg_client, fake_telegram, config) -> None:
    await post_update(tg_client, text_update(1, "hi"))
    resp = await tg_client.get("/api/v1/messages?channel=telegram", headers=bearer(tg_client))
    conversation_id = (await resp.json())["items"][0]["conversation_id"]
    ensure_agent(config, "ada")
    token = tg_client.app[TOKENS].issue("ada", "agent")
    async with tg_client.ws_connect("/inbox/ws") as agent:
        await agent_feed_ready(agent, token)
        await agent.send_json({"type": "typing", "conversation_id": conversation_id})
        calls = await wait_for(async_calls(fake_telegram))
    assert calls == [{"chat_id": str(CHAT_ID), "action": "typing"}]


def async_calls(fake):
    async def calls():
        return fake.calls_of("sendChatAction")

    return calls
