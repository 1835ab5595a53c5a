"""Public comments end to end: POST /comment → moderation → queue → review → GET /comments."""

from __future__ import annotations

from typing import Any

from tests.helpers.hub import bearer


async def _post(client, body: Any, **kw: Any) -> tuple[int, dict[str, Any]]:
    resp = await client.post("/comment", json=body, **kw)
    return resp.status, await resp.json()


async def _public(client, query: str = "") -> dict[str, Any]:
    resp = await client.get("/comments" + query)
    assert resp.status == 200
    return await resp.json()


async def test_clean_comment_from_a_new_author_is_published_at_once(client, db) -> None:
    status, body = await _post(
        client, {"comment": "Lovely shop, fast delivery.", "author": "Ann", "rating": 5}
    )
    assert status == 201
    assert body["status"] == "success" and body["moderation"] == "approved" and body["id"]
    page = await _public(client)
    assert [(c["comment"], c["author"], c["rating"]) for c in page["comments"]] == [
        ("Lovely shop, fast delivery.", "Ann", 5)
    ]
    stored = await db.comments.find_one({"_id": body["id"]})
    assert stored["decision"]["status"] == "approved"
    assert stored["decision"]["rules_version"]
    assert [step["stage"] for step in stored["decision"]["trail"]] == [
        "size", "flood", "duplicate", "spam", "words", "pii", "trust",
    ]  # fmt: skip


def _texts(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [t for key, item in value.items() for t in [str(key), *_texts(item)]]
    if isinstance(value, list | tuple):
        return [t for item in value for t in _texts(item)]
    return []


async def test_personal_data_never_reaches_the_public_list_or_the_database(client, db) -> None:
    text = "Ask Bo: bo@example.com, +1 415-555-0123, card 4111 1111 1111 1111"
    status, body = await _post(client, {"comment": text, "email": "ann@example.net"})
    assert status == 201
    page = await _public(client)
    published = page["comments"][0]["comment"]
    assert published == "Ask Bo: [email removed], [phone removed], card [card removed]"
    assert "email" not in page["comments"][0]
    stored = await db.comments.find_one({"_id": body["id"]})
    # Every text stored (fingerprint numbers are not text: their digits may read "4111").
    written = " ".join(_texts(stored))
    assert "bo@example.com" not in written and "4111" not in written
    pii_step = next(s for s in stored["decision"]["trail"] if s["stage"] == "pii")
    assert pii_step == {
        "stage": "pii",
        "action": "transform",
        "reason": "redacted",
        "detail": {"found": {"emails": 1, "cards": 1, "phones": 1}},
    }


async def test_held_comment_is_reviewed_then_published(client, db) -> None:
    status, body = await _post(
        client, {"comment": "Support was a total scam today", "target": "p-1"}
    )
    assert (status, body["status"], body["moderation"]) == (201, "success", "held")
    assert (await _public(client))["comments"] == []

    resp = await client.get("/api/v1/moderation/queue", headers=bearer(client))
    queue = await resp.json()
    assert [item["id"] for item in queue["items"]] == [body["id"]]
    item = queue["items"][0]
    assert (item["decision"]["stage"], item["decision"]["reason"]) == ("words", "watched_word")

    resp = await client.post(
        f"/api/v1/moderation/{body['id']}/approve",
        json={"reason": "fair criticism"},
        headers=bearer(client, sub="agent-bo"),
    )
    assert resp.status == 200
    assert (await resp.json())["status"] == "approved"
    page = await _public(client, "?target=p-1")
    assert [c["id"] for c in page["comments"]] == [body["id"]]
    assert (await _public(client, "?target=p-2"))["comments"] == []

    stored = await db.comments.find_one({"_id": body["id"]})
    review = stored["reviews"][0]
    assert (review["action"], review["by"], review["role"], review["reason"]) == (
        "approve", "agent-bo", "agent", "fair criticism",
    )  # fmt: skip
    assert review["from_status"] == "held"
    resp = await client.get("/api/v1/moderation/queue", headers=bearer(client))
    assert (await resp.json())["items"] == []


async def test_reject_needs_a_reason_and_unpublishes(client, db) -> None:
    _, body = await _post(client, {"comment": "Fine product, nothing special."})
    url = f"/api/v1/moderation/{body['id']}/reject"
    resp = await client.post(url, headers=bearer(client))
    assert resp.status == 400
    assert (await resp.json())["error"]["code"] == "reason_required"
    resp = await client.post(url, json={"reason": "off topic"}, headers=bearer(client))
    assert resp.status == 200
    assert (await _public(client))["comments"] == []
    resp = await client.post(url, json={"reason": "again"}, headers=bearer(client))
    assert (await resp.json())["error"]["code"] == "already_decided"
    resp = await client.post("/api/v1/moderation/nope/approve", headers=bearer(client))
    assert resp.status == 404


async def test_clear_abuse_and_spam_are_rejected_and_explained(client, db) -> None:
    status, body = await _post(client, {"comment": "ｆ ｕ ｃ ｋ you"})
    assert (status, body["status"], body["code"]) == (422, "error", "banned_word")
    status, body2 = await _post(client, {"comment": "buy now, click here http://x.example.ru"})
    assert (status, body2["code"]) == (422, "spam")
    assert (await _public(client))["comments"] == []
    resp = await client.get(f"/api/v1/comments/{body['id']}", headers=bearer(client))
    record = await resp.json()
    assert record["status"] == "rejected"
    assert (record["decision"]["stage"], record["decision"]["reason"]) == ("words", "banned_word")
    assert record["decision"]["trail"][-1]["detail"] == {"terms": ["fuck*"]}


BAD_INPUT = [
    ({"comment": ""}, 400, "empty_comment"),
    ({"comment": "   "}, 400, "empty_comment"),
    ({"comment": 5}, 400, "invalid_request"),
    ({"comment": None}, 400, "invalid_request"),
    ({}, 400, "invalid_request"),
    ({"comment": "ok", "rating": 6}, 400, "invalid_request"),
    ({"comment": "ok", "rating": "5"}, 400, "invalid_request"),
    ({"comment": "ok", "rating": True}, 400, "invalid_request"),
    ({"comment": "ok", "email": "not an email"}, 400, "invalid_request"),
    ({"comment": "ok", "email": "ann..lee@example.net"}, 400, "invalid_request"),
    ({"comment": "ok", "email": "ann@-example.net"}, 400, "invalid_request"),
    ({"comment": "ok", "email": "<b>@example.net"}, 400, "invalid_request"),
    ({"comment": "ok", "target": "a b"}, 400, "invalid_request"),
    ({"comment": "ok", "unknown": 1}, 400, "invalid_request"),
    ({"comment": "x" * 5001}, 400, "too_long"),
    ({"comment": "hidden\x00null"}, 400, "control_characters"),
    ({"comment": "flip \u202e text"}, 400, "control_characters"),
    (["comment"], 400, "invalid_request"),
]


async def test_bad_input_gets_an_error_and_nothing_is_stored(client, db) -> None:
    for body, status, code in BAD_INPUT:
        got_status, got = await _post(client, body)
        assert (got_status, got["status"], got["code"]) == (status, "error", code), body
        assert got["message"]
    resp = await client.post("/comment", data="comment=hi")
    assert resp.status == 415 and (await resp.json())["status"] == "error"
    resp = await client.post(
        "/comment", data="{not json", headers={"Content-Type": "application/json"}
    )
    assert (await resp.json())["code"] == "invalid_json"
    assert await db.comments.count_documents({}) == 0


async def test_public_listing_pages_newest_first(client) -> None:
    ids = []
    texts = ["Fast delivery.", "Sturdy box.", "Works well.", "Nice colour.", "Good value."]
    for n, text in enumerate(texts):
        _, body = await _post(client, {"comment": text, "email": f"u{n}@x.example"})
        assert body["moderation"] == "approved", body
        ids.append(body["id"])
    first = await _public(client, "?limit=2")
    second = await _public(client, f"?limit=2&cursor={first['next_cursor']}")
    third = await _public(client, f"?limit=2&cursor={second['next_cursor']}")
    seen = [c["id"] for page in (first, second, third) for c in page["comments"]]
    assert seen == ids[::-1]
    assert third["next_cursor"] is None
    resp = await client.get("/comments?cursor=bogus")  # not <ms>.<id>
    assert resp.status == 400 and (await resp.json())["code"] == "invalid_request"
    resp = await client.get("/comments?limit=1000")
    assert resp.status == 400


async def test_bulk_review(client) -> None:
    held = []
    for n, word in enumerate(["idiot", "moron", "stupid"]):
        _, body = await _post(
            client, {"comment": f"the {word} courier left it outside", "email": f"b{n}@x.example"}
        )
        held.append(body["id"])
    resp = await client.post(
        "/api/v1/moderation/bulk",
        json={"action": "approve", "ids": [*held[:2], "missing"]},
        headers=bearer(client),
    )
    results = (await resp.json())["results"]
    assert [(r["id"], r["ok"]) for r in results] == [
        (held[0], True),
        (held[1], True),
        ("missing", False),
    ]
    resp = await client.get("/api/v1/moderation/queue", headers=bearer(client))
    assert [i["id"] for i in (await resp.json())["items"]] == [held[2]]
    resp = await client.post(
        "/api/v1/moderation/bulk", json={"action": "reject", "ids": held}, headers=bearer(client)
    )
    assert (await resp.json())["error"]["code"] == "reason_required"


async def test_review_endpoints_need_a_token(client) -> None:
    assert (await client.get("/api/v1/moderation/queue")).status == 401
    assert (await client.post("/api/v1/moderation/x/approve")).status == 401


async def _approve(client, comment_id: str) -> None:
    resp = await client.post(
        f"/api/v1/moderation/{comment_id}/approve", headers=bearer(client, sub="agent-bo")
    )
    assert resp.status == 200


async def test_automatic_approvals_earn_no_trust(client) -> None:
    """Three clean comments under a fresh email, then an insult: it stays held."""
    email, token = "fresh@example.net", None
    for text in ("Arrived on time.", "The colour is lovely.", "Second one I bought."):
        body = {"comment": text, "email": email, **({"author_token": token} if token else {})}
        status, answer = await _post(client, body)
        assert (status, answer["moderation"]) == (201, "approved")
        token = answer["author_token"]
    status, answer = await _post(
        client, {"comment": "you absolute idiot", "email": email, "author_token": token}
    )
    assert (status, answer["moderation"]) == (201, "held")


async def test_another_posters_email_does_not_carry_their_trust(client, db) -> None:
    email = "regular@example.net"
    _, first = await _post(client, {"comment": "what a scam, honestly", "email": email})
    token = first["author_token"]
    await _approve(client, first["id"])
    for text in ("the old model was stupid", "support is an idiot sometimes"):
        _, answer = await _post(client, {"comment": text, "email": email, "author_token": token})
        assert answer["moderation"] == "held"
        await _approve(client, answer["id"])
    borderline = "moron design, but it works"
    _, mine = await _post(client, {"comment": borderline, "email": email, "author_token": token})
    assert mine["moderation"] == "approved"
    stored = await db.comments.find_one({"_id": mine["id"]})
    assert (stored["decision"]["stage"], stored["decision"]["reason"]) == (
        "trust",
        "trusted_author",
    )
    # Someone else gives the same email, without the token (five per minute per email:
    # this is the last one the flood limit lets through).
    _, theirs = await _post(client, {"comment": "a moron made the lid", "email": email})
    assert theirs["moderation"] == "held"
    assert theirs["author_token"] != token


async def test_a_malformed_author_token_is_refused(client, db) -> None:
    status, body = await _post(client, {"comment": "fine", "author_token": "short"})
    assert (status, body["status"]) == (400, "error")
    assert await db.comments.count_documents({}) == 0
