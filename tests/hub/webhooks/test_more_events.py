"""Moderation decisions, contact merges and internal notes reach webhook endpoints."""

from __future__ import annotations

from typing import Any

from tests.helpers.hub import bearer, wait_for
from tests.helpers.webhooks import customer_writes, register


async def _arrived(receiver: Any, event_type: str, n: int = 1) -> list[dict[str, Any]]:
    async def found() -> list[dict[str, Any]] | None:
        events = [e for e in receiver.accepted() if e["type"] == event_type]
        return events if len(events) >= n else None

    result: list[dict[str, Any]] = await wait_for(found, within=20)
    return result


async def test_published_held_and_rejected_comments_are_delivered(
    make_client, hook_config, receiver
) -> None:
    client = await make_client(hook_config)
    await register(client, receiver.url, ["comment.published", "comment.held", "comment.rejected"])
    resp = await client.post("/comment", json={"comment": "Lovely shop, fast delivery."})
    published = await resp.json()
    resp = await client.post("/comment", json={"comment": "Support was a total scam today"})
    held = await resp.json()
    assert held["moderation"] == "held"

    [event] = await _arrived(receiver, "comment.published")
    assert event["data"]["comment"]["id"] == published["id"]
    assert event["data"]["comment"]["text"] == "Lovely shop, fast delivery."
    assert event["data"]["comment"]["status"] == "approved"
    [event] = await _arrived(receiver, "comment.held")
    assert event["data"]["comment"]["id"] == held["id"]
    assert event["data"]["comment"]["decision"]["reason"] == "watched_word"

    resp = await client.post(
        f"/api/v1/moderation/{held['id']}/reject",
        json={"reason": "abusive"},
        headers=bearer(client, sub="agent-bo"),
    )
    assert resp.status == 200, await resp.text()
    [event] = await _arrived(receiver, "comment.rejected")
    comment = event["data"]["comment"]
    assert (comment["id"], comment["status"]) == (held["id"], "rejected")
    assert comment["reviews"][-1]["reason"] == "abusive"
    assert "email" not in comment and "address_hash" not in comment  # as the API shows it


async def test_a_merge_is_delivered_with_the_kept_contact(
    make_client, hook_config, receiver, db
) -> None:
    client = await make_client(hook_config)
    await register(client, receiver.url, ["contact.merged", "contact.created"])
    first = await customer_writes(client, "one", "m1")
    message = await db.messages.find_one({"_id": first["id"]})
    keep = message["contact_id"]
    # A second contact, created as the hub creates every contact: by its first message.
    async with client.ws_connect("/chat") as ws:
        await ws.send_json({"type": "message", "text": "two", "client_id": "c1"})
        while (ack := await ws.receive_json(timeout=10))["type"] != "ack":
            pass
    other = (await db.messages.find_one({"_id": ack["id"]}))["contact_id"]
    created = await _arrived(receiver, "contact.created", 2)
    assert {e["data"]["contact"]["id"] for e in created} == {keep, other}

    resp = await client.post(
        f"/api/v1/contacts/{keep}/merge",
        json={"other_id": other},
        headers=bearer(client, sub="root", role="admin"),
    )
    assert resp.status == 200, await resp.text()
    [event] = await _arrived(receiver, "contact.merged")
    assert event["data"]["contact"]["id"] == keep
    assert event["data"]["merged_contact_id"] == other
    assert len(event["data"]["contact"]["identities"]) == 2


async def test_an_internal_note_is_delivered_flagged_private(
    make_client, hook_config, receiver
) -> None:
    client = await make_client(hook_config)
    await register(client, receiver.url, ["message.created"])
    posted = await customer_writes(client, "my parcel is lost")
    resp = await client.post(
        f"/api/v1/conversations/{posted['conversation_id']}/messages",
        json={"text": "Customer is a VIP, refund at once", "private": True},
        headers=bearer(client, sub="alice"),
    )
    assert resp.status == 201, await resp.text()
    events = await _arrived(receiver, "message.created", 2)
    by_text = {e["data"]["message"]["text"]: e["data"]["message"] for e in events}
    assert by_text["Customer is a VIP, refund at once"]["private"] is True
    assert by_text["my parcel is lost"]["private"] is False
