"""Nothing lost: a hub that dies right after a write, before anything reacts to it, still
owes the write's webhook events, and the next hub on the database delivers them."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from hub.access.tokens import TokenService
from hub.api.comments import COMMENTS
from hub.config.model import ChorusConfig
from hub.runtime.events import InboxEvent
from hub.state import HUB
from hub.webhooks.service import WEBHOOKS
from tests.helpers.hub import bearer, ensure_agent, wait_for
from tests.helpers.hubproc import HubProcess
from tests.helpers.webhooks import ALL_EVENTS, customer_writes, register


async def test_events_of_a_write_whose_hub_died_before_reacting_are_delivered_after(
    make_client, hook_config, receiver, db
) -> None:
    first = await make_client(hook_config)
    await register(first, receiver.url)
    # The process "dies" after each durable write: no reaction runs, nothing is sent.
    await first.app[WEBHOOKS].sender.stop()

    def died(event: InboxEvent) -> None:
        return None

    first.app[HUB].events.publish = died  # type: ignore[method-assign]
    first.app[COMMENTS].on_decided = None
    posted = await customer_writes(first, "where is my parcel?")
    resp = await first.post("/comment", json={"comment": "Lovely shop, fast delivery."})
    assert resp.status == 201
    resp = await first.patch(
        f"/api/v1/conversations/{posted['conversation_id']}",
        json={"status": "open", "assignee": "alice"},
        headers=bearer(first, sub="alice"),
    )
    assert resp.status == 200, await resp.text()
    resp = await first.post(  # an agent's reply: stored through the replies' group commit
        f"/api/v1/conversations/{posted['conversation_id']}/messages",
        json={"text": "It left the warehouse today."},
        headers=bearer(first, sub="alice"),
    )
    assert resp.status == 201, await resp.text()
    reply = await resp.json()
    message = await db.messages.find_one({"_id": posted["id"]})
    await first.app[HUB].edit_message(
        message["channel"], message["external_id"], "where is my parcel? (order 7)", {}
    )
    await first.app[HUB].delete_message(message["channel"], message["external_id"])
    await first.close()
    assert receiver.requests == []

    await make_client(hook_config)  # the hub runs again

    wanted = {
        "contact.created",
        "conversation.created",
        "message.created",
        "message.updated",
        "conversation.status_changed",
        "conversation.assigned",
        "comment.published",
    }

    async def arrived() -> bool:
        return wanted <= {e["type"] for e in receiver.accepted()}

    await wait_for(arrived, within=20)

    async def both_created() -> bool:
        created = [e["data"]["message"]["id"] for e in receiver.accepted()
                   if e["type"] == "message.created"]  # fmt: skip
        return {posted["id"], reply["id"]} <= set(created)

    await wait_for(both_created, within=20)  # the agent's reply too
    events = {e["type"]: e for e in receiver.accepted()
              if e["data"].get("message", {}).get("id") != reply["id"]}  # fmt: skip
    # Each event shows the version it reports, although all were sent after the last one.
    assert events["message.created"]["data"]["message"]["text"] == "where is my parcel?"
    assert events["message.created"]["data"]["message"]["edits"] == []

    async def both_updates() -> list[dict[str, Any]] | None:
        found = [
            e["data"]["message"] for e in receiver.accepted() if e["type"] == "message.updated"
        ]
        return found if len(found) == 2 else None

    edited, deleted = sorted(await wait_for(both_updates), key=lambda m: len(m["edits"]))
    assert (edited["text"], edited["deleted_at"]) == ("where is my parcel? (order 7)", None)
    assert [e["text"] for e in edited["edits"]] == ["where is my parcel?"]
    assert deleted["text"] == "" and deleted["deleted_at"]
    assert len(deleted["edits"]) == 2
    assert events["conversation.status_changed"]["data"]["handoff"] is True
    assert events["conversation.assigned"]["data"]["assignee"] == "alice"
    owing = await db.messages.count_documents({"webhooks_owed_at": {"$exists": True}})
    assert owing == 0  # every owed event became a delivery and was forgotten


def _env(config: ChorusConfig) -> dict[str, str]:
    return {
        "CHORUS_AUTH__JWT_SECRET": config.auth.jwt_secret.get_secret_value(),
        "CHORUS_WEBHOOKS__ALLOW_PRIVATE_ADDRESSES": "true",
        "CHORUS_WEBHOOKS__BASE_DELAY_SECONDS": "0.05",
        "CHORUS_WEBHOOKS__MAX_DELAY_SECONDS": "0.5",
        "CHORUS_WEBHOOKS__LEASE_SECONDS": "2",
        "CHORUS_WEBHOOKS__POLL_SECONDS": "0.2",
        "CHORUS_WEBHOOKS__REQUEST_TIMEOUT_SECONDS": "2",
    }


async def test_two_hubs_one_killed_and_restarted_deliver_every_event_at_least_once(
    config: ChorusConfig, mongo_uri: str, db_name: str, db, receiver, tmp_path
) -> None:
    receiver.script = [500] * 12  # deliveries are mid-retry when a hub dies
    env = _env(config) | {"CHORUS_AUTH__JWT_SECRET_FILE": str(tmp_path / "jwt_secret")}
    hubs = [HubProcess(mongo_uri, db_name, **env) for _ in range(2)]
    await asyncio.gather(*(hub.start() for hub in hubs))
    on_db = config.model_copy(
        update={"mongo": config.mongo.model_copy(update={"uri": mongo_uri, "database": db_name})}
    )
    ensure_agent(on_db, "root", "admin")
    admin = {"Authorization": f"Bearer {TokenService(config.auth).issue('root', 'admin')}"}
    try:
        async with aiohttp.ClientSession() as http:
            url = f"{hubs[0].url}/api/v1/webhooks/endpoints"
            body = {"url": receiver.url, "events": ALL_EVENTS}
            async with http.post(url, json=body, headers=admin) as resp:
                assert resp.status == 201, await resp.text()
            inbox_body = {"name": "SMS", "webhook_url": "https://bridge.example.com/chorus"}
            async with http.post(
                f"{hubs[0].url}/api/v1/api-channels", json=inbox_body, headers=admin
            ) as resp:
                inbox = await resp.json()
            token = {"Authorization": f"Bearer {inbox['token']}"}

            async def write(n: int, alive: int = 2) -> None:
                hub = hubs[n % alive + (2 - alive)]
                message = {
                    "message_id": f"m{n}",
                    "contact": {"id": f"+1555{n % 4}"},
                    "text": f"t{n}",
                }
                async with http.post(
                    f"{hub.url}/api/v1/api-channels/{inbox['id']}/messages",
                    json=message,
                    headers=token,
                ) as resp:
                    assert resp.status == 201, await resp.text()

            await asyncio.gather(*(write(n) for n in range(12)))

            async def failing_seen() -> bool:
                return len(receiver.requests) >= 4

            await wait_for(failing_seen, within=20)
            await hubs[0].kill()  # SIGKILL while deliveries are leased and being retried
            await asyncio.gather(*(write(n, alive=1) for n in range(12, 16)))
            await hubs[0].start()

            expected = {f"evt_message_{d['_id']}" async for d in db.messages.find({})}
            expected |= {f"evt_conversation_{d['_id']}" async for d in db.conversations.find({})}
            expected |= {f"evt_contact_{d['_id']}" async for d in db.contacts.find({})}
            assert len(expected) == 16 + 4 + 4

            async def everything() -> bool:
                owed = {d["event_id"] async for d in db.webhook_deliveries.find({})}
                return expected | owed <= {e["id"] for e in receiver.accepted()}

            await wait_for(everything, within=60)
    finally:
        await asyncio.gather(*(hub.stop() for hub in hubs))
    accepted: list[dict[str, Any]] = receiver.accepted()
    unique = {e["id"] for e in accepted}  # the receiver deduplicates by event id
    assert expected <= unique  # and the hubs' own handoffs' events came too
    assert unique == {d["event_id"] async for d in db.webhook_deliveries.find({})}
    print(
        f"events {len(expected)}, accepted {len(accepted)}, duplicates {len(accepted) - len(unique)}"
    )
