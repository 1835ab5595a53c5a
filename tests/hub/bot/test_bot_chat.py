"""The bot over the web channel, end to end: customer socket → inbox → bot → outbox → socket."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hub.bot.flows import WEEKDAYS
from hub.bot.service import BOT, ROUTER
from hub.state import CONFIG
from tests.helpers.bot import (
    chatting,
    conversation_of,
    go_online,
    resolve,
    transitions,
    wait_for_status,
)
from tests.helpers.hub import bearer, wait_for


async def test_a_kb_question_is_answered_in_the_same_round_trip(
    client, customer, db, config
) -> None:
    ack = await customer.say("How long does shipping take?")
    answer = await customer.hear()
    assert answer["author"] == {"kind": "bot", "name": config.bot.name}
    assert answer["text"].startswith(config.bot.greeting)
    assert "arrive in 3 to 5 business days" in answer["text"]
    assert "https://example.com/help/shipping" in answer["text"]

    conversation = await conversation_of(client, ack["id"])
    assert conversation["status"] == "bot" and conversation["assignee"] is None
    stored = await db.messages.find_one({"_id": answer["id"]})
    assert stored["direction"] == "outbound" and stored["author"]["kind"] == "bot"

    async def delivered() -> bool:
        doc = await db.messages.find_one({"_id": answer["id"]})
        return doc["delivery"]["status"] == "sent"

    await wait_for(delivered)
    # The next question is answered without another greeting.
    await customer.say("我想退货")
    answer = await customer.hear()
    assert answer["text"].startswith("收到商品后三十天内")


async def test_two_unanswered_questions_hand_off_to_an_online_agent(
    client, customer, config
) -> None:
    await go_online(client, "ann")
    ack = await customer.say("Do you sell gift cards?")
    first = await customer.hear()
    assert first["text"].endswith(config.bot.fallback_message)
    await customer.say("What about vouchers for my aunt?")
    second = await customer.hear()
    assert second["text"] == config.bot.handoff_message

    conversation = await conversation_of(client, ack["id"])
    await wait_for_status(client, conversation["id"], "open", assignee="ann")
    rows = await transitions(client, conversation["id"], at_least=3)
    assert [(r["from"], r["to"]) for r in rows] == [
        (None, "bot"),
        ("bot", "open"),
        ("open", "assigned"),
    ]
    assert rows[1]["reason"] == "low_confidence" and rows[1]["actor"] == "bot"
    assert rows[2]["reason"] == "policy:least_loaded" and rows[2]["assignee"] == "ann"

    # Humans own it now: the bot stays quiet and the agent's reply reaches the customer.
    await customer.say("hello?")
    resp = await client.post(
        f"/api/v1/conversations/{conversation['id']}/messages",
        json={"text": "Hi, Ann here."},
        headers=bearer(client, sub="ann"),
    )
    assert resp.status == 201
    heard = await customer.hear()
    assert heard["text"] == "Hi, Ann here." and heard["author"]["kind"] == "agent"


async def test_asking_for_a_human_hands_off_at_once_and_waits_for_an_agent(
    client, customer, config
) -> None:
    ack = await customer.say("human please")
    reply = await customer.hear()
    assert reply["text"] == f"{config.bot.greeting}\n\n{config.bot.handoff_message}"
    conversation = await conversation_of(client, ack["id"])
    await wait_for_status(client, conversation["id"], "open")
    assert (await conversation_of(client, ack["id"]))["assignee"] is None  # nobody online yet

    await go_online(client, "bob")
    await wait_for_status(client, conversation["id"], "open", assignee="bob")
    rows = await transitions(client, conversation["id"], at_least=3)
    assert rows[1]["reason"] == "customer_request"


async def test_outside_business_hours_the_bot_says_when_humans_are_back_and_keeps_the_email(
    client_factory, db
) -> None:
    # The bot's clock is set, so "tomorrow" does not depend on when the test runs.
    now = datetime(2026, 1, 10, 20, 0, tzinfo=UTC)  # a Saturday evening
    tomorrow = WEEKDAYS[(now + timedelta(days=1)).weekday()]
    client = await client_factory(
        business_hours={
            "enabled": True,
            "timezone": "UTC",
            "days": [tomorrow],
            "open": "09:00",
            "close": "17:00",
        }
    )
    client.app[BOT].clock = lambda: now
    async with chatting(client) as customer:
        ack = await customer.say("Can I talk to an agent?")
        reply = await customer.hear()
        assert "back tomorrow at 09:00 (UTC)" in reply["text"]
        assert "email" in reply["text"]
        await customer.say("yes: ada@example.org")
        thanks = await customer.hear()
        assert "ada@example.org" in thanks["text"]
    conversation = await conversation_of(client, ack["id"])
    assert conversation["status"] == "open"  # waiting for tomorrow's agents
    contact = await db.contacts.find_one({"_id": conversation["contact_id"]})
    assert contact["email"] == "ada@example.org"


async def test_resolution_asks_for_a_rating_and_stores_it(client, customer, db, config) -> None:
    ack = await customer.say("agent")
    await customer.hear()
    conversation_id = (await conversation_of(client, ack["id"]))["id"]
    resp = await client.post(
        f"/api/v1/conversations/{conversation_id}/assign", headers=bearer(client, sub="cy")
    )
    assert resp.status == 200 and (await resp.json())["assignee"] == "cy"
    await resolve(client, conversation_id, "cy")
    prompt = await customer.hear()
    assert prompt["text"] == config.bot.rating_prompt
    await customer.say("5")
    thanks = await customer.hear()
    assert thanks["text"] == config.bot.rating_thanks

    async def rated():
        return await db.ratings.find_one({"_id": conversation_id})

    rating = await wait_for(rated)
    assert rating["score"] == 5 and rating["assignee"] == "cy"
    await wait_for_status(client, conversation_id, "resolved")
    rows = await transitions(client, conversation_id, at_least=6)
    assert [(r["from"], r["to"], r["actor"]) for r in rows[1:]] == [
        ("bot", "open", "bot"),
        ("open", "assigned", "agent:cy"),
        ("assigned", "resolved", "agent:cy"),
        ("resolved", "assigned", f"contact:{rating['contact_id']}"),
        ("assigned", "resolved", "bot"),
    ]


async def test_a_message_after_resolution_reopens_within_the_window(client, customer) -> None:
    ack = await customer.say("How do I reset my password?")
    await customer.hear()
    conversation_id = (await conversation_of(client, ack["id"]))["id"]
    await resolve(client, conversation_id)
    await customer.hear()  # the rating prompt
    ack = await customer.say("Which payment methods do you accept?")
    answer = await customer.hear()
    assert "PayPal" in answer["text"]
    assert (await conversation_of(client, ack["id"]))["id"] == conversation_id
    assert (await conversation_of(client, ack["id"]))["status"] == "bot"


async def test_after_the_window_a_new_conversation_starts(client_factory) -> None:
    client = await client_factory(reopen_window_seconds=0, rating_prompt="")
    async with chatting(client) as customer:
        first = await customer.say("How do I reset my password?")
        await customer.hear()
        conversation_id = (await conversation_of(client, first["id"]))["id"]
        await resolve(client, conversation_id)
        second = await customer.say("Which payment methods do you accept?")
        answer = await customer.hear()
    assert answer["text"].startswith(client.app[CONFIG].bot.greeting)
    assert (await conversation_of(client, second["id"]))["id"] != conversation_id


async def test_round_robin_policy_and_a_manual_claim_that_wins(client_factory) -> None:
    client = await client_factory(assignment={"policy": "round_robin"})
    for agent_id in ("ann", "bob"):
        await go_online(client, agent_id)
    assignees = []
    conversations = []
    for _ in range(3):
        async with chatting(client) as customer:
            ack = await customer.say("human")
            await customer.hear()
        conversation = await conversation_of(client, ack["id"])
        done = await wait_for(lambda c=conversation: _assigned(client, c["id"]))
        assignees.append(done["assignee"])
        conversations.append(conversation["id"])
    assert assignees == ["ann", "bob", "ann"]

    resp = await client.post(
        f"/api/v1/conversations/{conversations[0]}/assign",
        json={"agent_id": "bob"},
        headers=bearer(client, sub="lead", role="admin"),
    )
    assert resp.status == 200
    await client.app[ROUTER].tick()
    assert (await conversation_of_id(client, conversations[0]))["assignee"] == "bob"


async def _assigned(client, conversation_id):
    data = await conversation_of_id(client, conversation_id)
    return data if data["assignee"] else None


async def conversation_of_id(client, conversation_id):
    resp = await client.get(f"/api/v1/conversations/{conversation_id}", headers=bearer(client))
    return await resp.json()
