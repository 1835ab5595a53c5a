"""Legal holds refuse erasure until lifted, audited both ways; and every privacy endpoint
against strangers: no token, an agent, a wrong id, an oversized or malformed body."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers.hub import bearer
from tests.helpers.privacy import customer_writes

REASON = {"reason": "litigation 2026-114"}


async def test_a_held_contact_or_conversation_is_not_erased_until_lifted(client, db) -> None:
    admin = bearer(client, "root", "admin")
    said = await customer_writes(client, "cy", "Cy Twombly", "keep this", "c1")
    contact_id, conversation_id = said.message.contact_id, said.conversation.id
    for kind, target in (("contact", contact_id), ("conversation", conversation_id)):
        placed = await client.post(
            "/api/v1/holds", json={"kind": kind, "target": target, **REASON}, headers=admin
        )
        assert placed.status == 201
        refused = await client.post(
            f"/api/v1/contacts/{contact_id}/erase", json={"reason": "asked"}, headers=admin
        )
        assert refused.status == 409 and (await refused.json())["error"]["code"] == "legal_hold"
        assert await db.messages.find_one({"text": "keep this"}) is not None
        holds = await (await client.get("/api/v1/holds", headers=admin)).json()
        assert [(h["kind"], h["target"]) for h in holds["holds"]] == [(kind, target)]
        lifted = await client.post(
            f"/api/v1/holds/{kind}/{target}/lift", json={"reason": "case closed"}, headers=admin
        )
        assert lifted.status == 200
    erased = await client.post(
        f"/api/v1/contacts/{contact_id}/erase", json={"reason": "asked"}, headers=admin
    )
    assert erased.status == 200
    audit = [
        (e["action"], e["detail"]["reason"])
        async for e in db.audit_log.find({"detail": {"$exists": True}}).sort("at", 1)
    ]
    assert audit == [
        ("place legal hold", "litigation 2026-114"),
        ("lift legal hold", "case closed"),
        ("place legal hold", "litigation 2026-114"),
        ("lift legal hold", "case closed"),
        ("erase contact", "asked"),
    ]


ENDPOINTS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/api/v1/contacts/{id}/export", None),
    ("POST", "/api/v1/contacts/{id}/erase", {"reason": "asked"}),
    ("GET", "/api/v1/holds", None),
    ("POST", "/api/v1/holds", {"kind": "contact", "target": "{id}", "reason": "hold it"}),
    ("POST", "/api/v1/holds/contact/{id}/lift", {"reason": "done"}),
    ("GET", "/api/v1/retention", None),
]


def _fill(value: Any, contact_id: str) -> Any:
    if isinstance(value, dict):
        return {k: _fill(v, contact_id) for k, v in value.items()}
    return value.replace("{id}", contact_id) if isinstance(value, str) else value


@pytest.mark.parametrize("method,path,body", ENDPOINTS, ids=lambda v: str(v))
async def test_strangers_get_stable_json_errors_and_change_nothing(
    client, db, method: str, path: str, body: dict[str, Any] | None
) -> None:
    said = await customer_writes(client, "di", "Di Stranger", "private words", "d1")
    url = path.replace("{id}", said.message.contact_id)
    payload = _fill(body, said.message.contact_id)
    nobody = await client.request(method, url, json=payload)
    assert nobody.status == 401 and (await nobody.json())["error"]["code"] == "missing_token"
    agent = await client.request(method, url, json=payload, headers=bearer(client, "al"))
    assert agent.status == 403 and (await agent.json())["error"]["code"] == "forbidden"
    admin = bearer(client, "root", "admin")
    if "{id}" in path or "{id}" in str(body):
        nobody_id = "000000000000000000000000"
        wrong = await client.request(
            method, path.replace("{id}", nobody_id), json=_fill(body, nobody_id), headers=admin
        )
        assert wrong.status == 404 and (await wrong.json())["error"]["code"].endswith("not_found")
    if method == "POST":
        huge = await client.request(
            method,
            url,
            data=b'{"reason": "' + b"x" * 2_000_000 + b'"}',
            headers=admin | {"Content-Type": "application/json"},
        )
        assert huge.status == 413 and (await huge.json())["error"]["code"] == "payload_too_large"
        bad = await client.request(method, url, json={"reason": ""}, headers=admin)
        assert bad.status == 400 and "code" in (await bad.json())["error"]
    assert await db.messages.find_one({"text": "private words"}) is not None
    assert await db.legal_holds.count_documents({}) == 0
