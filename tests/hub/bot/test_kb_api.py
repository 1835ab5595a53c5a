"""``/api/v1/kb``: admins edit the knowledge base and the bot answers from it at once."""

from __future__ import annotations

from tests.helpers.hub import bearer

NEW = {
    "id": "gift-cards",
    "questions": ["Do you sell gift cards?", "Can I buy a voucher?"],
    "answer": "Yes, gift cards from 10 to 500 euros.",
    "links": [{"title": "Gift cards", "url": "https://example.com/gift"}],
}


async def test_admins_edit_entries_and_the_bot_answers_from_them(client, customer, db) -> None:
    admin = bearer(client, sub="root", role="admin")
    resp = await client.get("/api/v1/kb", headers=admin)
    ids = [e["id"] for e in (await resp.json())["items"]]
    assert "shipping-time" in ids and "zh-returns" in ids  # loaded from the sample file

    resp = await client.post("/api/v1/kb", json=NEW, headers=admin)
    assert resp.status == 201 and (await resp.json())["source"] == "api"
    await customer.say("do you sell gift cards")
    assert "from 10 to 500 euros" in (await customer.hear())["text"]

    resp = await client.put(
        "/api/v1/kb/gift-cards",
        json={"questions": NEW["questions"], "answer": "Not any more, sorry."},
        headers=admin,
    )
    assert resp.status == 200
    await customer.say("can I buy a voucher?")
    assert (await customer.hear())["text"] == "Not any more, sorry."

    resp = await client.get("/api/v1/kb/search?q=buy+a+voucher", headers=admin)
    found = (await resp.json())["items"][0]
    assert found["id"] == "gift-cards" and found["answers"] is True

    resp = await client.delete("/api/v1/kb/gift-cards", headers=admin)
    assert resp.status == 204
    assert await db.kb.find_one({"_id": "gift-cards"}) is None
    resp = await client.get("/api/v1/kb/gift-cards", headers=admin)
    assert resp.status == 404 and (await resp.json())["error"]["code"] == "not_found"


async def test_an_entry_keeps_its_language_and_chinese_questions_get_chinese_answers(
    client, customer, db
) -> None:
    admin = bearer(client, sub="root", role="admin")
    english = {**NEW, "id": "paypal-en", "questions": ["PayPal"], "answer": "We take PayPal."}
    chinese = {
        **english,
        "id": "paypal-zh",
        "questions": ["PayPal 付款"],
        "answer": "支持 PayPal。",
    }
    for body, language in ((english, "en"), (chinese, "zh")):
        resp = await client.post("/api/v1/kb", json={**body, "language": language}, headers=admin)
        assert resp.status == 201 and (await resp.json())["language"] == language
    assert (await db.kb.find_one({"_id": "paypal-zh"}))["language"] == "zh"
    await customer.say("PayPal 吗？")
    said = (await customer.hear())["text"]
    assert "支持 PayPal。" in said and "We take PayPal." not in said

    unchanged = {k: v for k, v in english.items() if k != "id"}
    resp = await client.put("/api/v1/kb/paypal-en", json=unchanged, headers=admin)
    assert (await resp.json())["language"] is None  # a replacement without one: any language


async def test_kb_is_admin_only_and_validated(client, db) -> None:
    agent = bearer(client, sub="ann", role="agent")
    admin = bearer(client, sub="root", role="admin")
    assert (await client.get("/api/v1/kb", headers=agent)).status == 403
    assert (await client.post("/api/v1/kb", json=NEW, headers=agent)).status == 403
    count = await db.kb.count_documents({})
    for bad in (
        {**NEW, "id": "Bad Id!"},
        {**NEW, "questions": []},
        {**NEW, "answer": ""},
        {**NEW, "links": [{"title": "x", "url": "javascript:alert(1)"}]},
        {**NEW, "extra": 1},
        {**NEW, "language": "fr"},
    ):
        resp = await client.post("/api/v1/kb", json=bad, headers=admin)
        assert resp.status == 400, bad
        assert (await resp.json())["error"]["code"] == "invalid_request"
    resp = await client.post("/api/v1/kb", json={**NEW, "id": "returns"}, headers=admin)
    assert resp.status == 409 and (await resp.json())["error"]["code"] == "entry_exists"
    body = {"questions": NEW["questions"], "answer": NEW["answer"]}
    resp = await client.put("/api/v1/kb/%C2%A2%C2%A9", json=body, headers=admin)
    assert resp.status == 404 and (await resp.json())["error"]["code"] == "not_found"
    assert await db.kb.count_documents({}) == count


async def test_api_edits_survive_a_restart_and_file_entries_are_refreshed(
    make_client, config, db
) -> None:
    client = await make_client()
    admin = bearer(client, sub="root", role="admin")
    resp = await client.put(
        "/api/v1/kb/returns",
        json={"questions": ["How do I return an item?"], "answer": "Edited by an admin."},
        headers=admin,
    )
    assert resp.status == 200
    await db.kb.update_one({"_id": "payment-methods"}, {"$set": {"answer": "stale"}})
    await client.close()

    client = await make_client()
    resp = await client.get("/api/v1/kb/returns", headers=bearer(client, role="admin"))
    assert (await resp.json())["answer"] == "Edited by an admin."
    resp = await client.get("/api/v1/kb/payment-methods", headers=bearer(client, role="admin"))
    assert (await resp.json())["answer"].startswith("We accept Visa")
