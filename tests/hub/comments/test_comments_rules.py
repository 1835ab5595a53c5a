"""Comment moderation around the edges: rate limits, rules at run time, other sources."""

from __future__ import annotations

from typing import Any

from hub.config.model import ChorusConfig
from hub.domain import InboundMessage
from hub.state import HUB
from tests.fakes.classifier import SEEN, classifier_app
from tests.helpers.hub import bearer, wait_for


def _config(config: ChorusConfig, **moderation: Any) -> ChorusConfig:
    cfg = config.model_copy(deep=True)
    for key, value in moderation.items():
        setattr(cfg.moderation, key, value)
    return cfg


async def test_public_endpoints_are_rate_limited_per_address(make_client, config) -> None:
    cfg = _config(config)
    cfg.moderation.public_rate.capacity = 2
    cfg.moderation.public_rate.refill_per_second = 0.01
    client = await make_client(cfg)
    assert (await client.get("/comments")).status == 200
    assert (await client.post("/comment", json={"comment": "hello there"})).status == 201
    resp = await client.post("/comment", json={"comment": "hello again"})
    assert resp.status == 429
    assert int(resp.headers["Retry-After"]) >= 1
    body = await resp.json()
    assert (body["status"], body["code"]) == ("error", "rate_limited")


async def test_admin_replaces_rules_and_new_comments_use_them(client, db) -> None:
    resp = await client.get("/api/v1/moderation/rules", headers=bearer(client))
    current = await resp.json()
    assert current["origin"] == "config"
    rules = current["rules"]
    trust = next(stage for stage in rules["web"] if stage["stage"] == "trust")
    trust["hold_new_authors"] = True

    resp = await client.put("/api/v1/moderation/rules", json=rules, headers=bearer(client))
    assert resp.status == 403
    resp = await client.put(
        "/api/v1/moderation/rules", json=rules, headers=bearer(client, sub="root", role="admin")
    )
    assert resp.status == 200
    version = (await resp.json())["version"]
    assert version != current["version"]

    resp = await client.post("/comment", json={"comment": "First time here, nice shop."})
    comment = await resp.json()
    assert comment["moderation"] == "held"
    stored = await db.comments.find_one({"_id": comment["id"]})
    assert stored["decision"]["rules_version"] == version
    assert (stored["decision"]["stage"], stored["decision"]["reason"]) == ("trust", "new_author")
    saved = await db.moderation_rules.find_one({"_id": version})
    assert saved["created_by"] == "root"


async def test_invalid_rules_are_refused(client) -> None:
    admin = bearer(client, role="admin")
    bad = {"web": [{"stage": "size", "max_chars": -1}]}
    resp = await client.put("/api/v1/moderation/rules", json=bad, headers=admin)
    assert resp.status == 400
    assert "max_chars" in (await resp.json())["error"]["message"]
    resp = await client.put(
        "/api/v1/moderation/rules", json={"web": [{"stage": "nope"}]}, headers=admin
    )
    assert resp.status == 400


async def test_rules_stored_by_one_instance_reach_another_without_restart(
    make_client, config
) -> None:
    cfg = _config(config, rules_refresh_seconds=0.05)
    first, second = await make_client(cfg), await make_client(cfg)
    admin = bearer(first, role="admin")
    rules = (await (await first.get("/api/v1/moderation/rules", headers=admin)).json())["rules"]
    words = next(stage for stage in rules["web"] if stage["stage"] == "words")
    words["block"].append("widget*")
    resp = await first.put("/api/v1/moderation/rules", json=rules, headers=admin)
    version = (await resp.json())["version"]

    async def second_uses_it() -> bool:
        resp = await second.get("/api/v1/moderation/rules", headers=bearer(second))
        return (await resp.json())["version"] == version

    await wait_for(second_uses_it)
    resp = await second.post("/comment", json={"comment": "W1DGETS everywhere"})
    assert (await resp.json())["code"] == "banned_word"
    resp = await second.post("/api/v1/moderation/reload", headers=bearer(second, role="admin"))
    assert (await resp.json()) == {"version": version, "origin": "stored"}


async def test_api_submission_goes_through_the_same_pipeline(client) -> None:
    resp = await client.post(
        "/api/v1/comments",
        json={"text": "Imported review: call 415 555 0123", "target": "sku-9", "rating": 4},
        headers=bearer(client, sub="importer"),
    )
    assert resp.status == 201
    record = await resp.json()
    assert record["status"] == "approved"
    assert record["text"] == "Imported review: call [phone removed]"
    assert record["author"]["key"] == "api:importer"
    resp = await client.get("/api/v1/comments?status=approved&target=sku-9", headers=bearer(client))
    assert [i["id"] for i in (await resp.json())["items"]] == [record["id"]]
    resp = await client.post("/api/v1/comments", json={"text": ""}, headers=bearer(client))
    assert (await resp.json())["error"]["code"] == "empty_comment"


async def test_public_social_post_becomes_a_moderated_comment_once(client, db) -> None:
    hub = client.app[HUB]
    inbound = InboundMessage(
        channel="twitter",
        external_id="1790000000000000001",
        sender_id="42",
        sender_name="Dee",
        thread_key="1790000000000000001",
        text="@shop your app is bullshit, mail me dee@example.com",
    )
    for _ in range(2):  # the platform delivers the mention twice
        result = await hub.receive(inbound)
        await hub.submit_public_comment(inbound, result.message)
    docs = await db.comments.find({}).to_list()
    assert len(docs) == 1
    doc = docs[0]
    assert (doc["source"], doc["status"], doc["author"]["key"]) == (
        "social",
        "approved",
        "twitter:42",
    )
    assert doc["text"] == "@shop your app is ********, mail me [email removed]"
    assert doc["external"]["message_id"] == "1790000000000000001"
    assert doc["external"]["stored_message_id"] == result.message.id
    page = await (await client.get("/comments")).json()
    assert [c["source"] for c in page["comments"]] == ["social"]


async def test_classifier_webhook_scores_and_its_failure_holds(
    make_client, config, aiohttp_server
) -> None:
    server = await aiohttp_server(classifier_app(), host="127.0.0.1")
    cfg = _config(config)
    cfg.moderation.classifier.url = str(server.make_url("/classify"))
    cfg.moderation.classifier.token = "classifier-token"  # type: ignore[assignment]
    rules = cfg.moderation.rules.model_dump(mode="json")
    rules["web"].append({"stage": "classifier", "timeout_seconds": 5})
    cfg.moderation.rules = rules  # type: ignore[assignment]
    client = await make_client(cfg)

    async def moderate(text: str, email: str) -> dict[str, Any]:
        resp = await client.post("/comment", json={"comment": text, "email": email})
        return await resp.json()

    assert (await moderate("A calm and kind remark.", "a@x.example"))["moderation"] == "approved"
    assert (await moderate("Something toxic here.", "b@x.example"))["code"] == "classifier_abusive"
    held = await moderate("This makes it crash.", "c@x.example")
    assert held["moderation"] == "held"
    resp = await client.get(f"/api/v1/comments/{held['id']}", headers=bearer(client))
    decision = (await resp.json())["decision"]
    assert (decision["stage"], decision["reason"]) == ("classifier", "classifier_unavailable")
    seen = server.app[SEEN]
    assert [s["body"]["text"] for s in seen] == [
        "A calm and kind remark.", "Something toxic here.", "This makes it crash.",
    ]  # fmt: skip
    assert {s["auth"] for s in seen} == {"Bearer classifier-token"}


async def test_duplicates_are_found_among_stored_comments(client, db) -> None:
    review = "The blender arrived quickly and crushes ice without any trouble at all."
    resp = await client.post("/comment", json={"comment": review, "email": "a@x.example"})
    first = await resp.json()
    assert first["moderation"] == "approved"
    copy = review.upper().replace(" ", "  ")
    resp = await client.post("/comment", json={"comment": copy, "email": "b@x.example"})
    second = await resp.json()
    assert (resp.status, second["code"]) == (422, "duplicate")
    near = review.replace("any", "much")
    resp = await client.post("/comment", json={"comment": near, "email": "c@x.example"})
    held = await resp.json()
    assert held["moderation"] == "held"
    doc = await db.comments.find_one({"_id": held["id"]})
    assert doc["decision"]["reason"] == "near_duplicate"
    # it looks like both earlier ones equally; the newest is named
    assert doc["decision"]["trail"][2]["detail"]["of"] == second["id"]
    other = "Shipping took three weeks and the box was crushed on arrival."
    resp = await client.post("/comment", json={"comment": other, "email": "d@x.example"})
    assert (await resp.json())["moderation"] == "approved"
