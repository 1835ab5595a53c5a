"""What the bot could not answer reaches the bot report: the knowledge base's gaps."""

from __future__ import annotations

from tests.helpers.hub import bearer


async def test_unanswered_questions_are_listed_and_answered_ones_are_not(client, customer) -> None:
    await customer.say("Do you sell gift cards?")
    await customer.hear()
    await customer.say("How long does shipping take?")
    await customer.hear()
    admin = bearer(client, "root", role="admin")
    resp = await client.get("/api/v1/reports/bot", params={"range": "today"}, headers=admin)
    assert resp.status == 200
    unanswered = (await resp.json())["tables"]["unanswered"]
    assert unanswered == [{"question": "do you sell gift cards?", "count": 1}]


async def test_a_conversation_the_bot_answered_and_closed_counts_as_contained(
    client, customer, db
) -> None:
    ack = await customer.say("How long does shipping take?")
    await customer.hear()
    stored = await db.messages.find_one({"_id": ack["id"]})
    admin = bearer(client, "root", role="admin")
    resp = await client.patch(
        f"/api/v1/conversations/{stored['conversation_id']}",
        json={"status": "resolved"},
        headers=admin,
    )
    assert resp.status == 200
    resp = await client.get("/api/v1/reports/bot", params={"range": "today"}, headers=admin)
    [day] = (await resp.json())["tables"]["days"]
    assert (day["resolved"], day["contained"], day["containment_rate"]) == (1, 1, 1.0)
