"""Slack users map to hub agents: through config at start-up, and through the API."""

from __future__ import annotations

from hub.domain import utcnow
from tests.fakes.slack_api import FakeSlackApi
from tests.helpers.hub import bearer
from tests.helpers.slack import ADA, BO, SlackSender, open_thread, quiet, slack_calls

NEWCOMER = "U0NEWCOMER"


async def test_configured_slack_users_are_seeded_as_agents(client, db) -> None:
    agents = {doc["_id"]: doc["slack_user_id"] async for doc in db.agents.find({})}
    assert agents == {"agent-ada": ADA, "agent-bo": BO}


async def test_config_takes_a_slack_user_over_from_another_agent(
    make_client, slack_config, db
) -> None:
    await db.agents.insert_one({"_id": "agent-old", "slack_user_id": ADA, "created_at": utcnow()})
    await make_client(slack_config)
    old = await db.agents.find_one({"_id": "agent-old"})
    assert old["slack_user_id"] is None
    assert (await db.agents.find_one({"_id": "agent-ada"}))["slack_user_id"] == ADA


async def test_admin_links_a_slack_user_and_their_thread_replies_count(
    client, db, slack: SlackSender, slack_api: FakeSlackApi
) -> None:
    await db.agents.insert_one({"_id": "agent-cy", "name": "Cy", "created_at": utcnow()})
    _, header_ts = await open_thread(client, db, slack_api)

    resp = await client.patch(
        "/api/v1/agents/agent-cy",
        json={"slack_user_id": NEWCOMER},
        headers=bearer(client, sub="root", role="admin"),
    )
    assert resp.status == 200
    body = await resp.json()
    assert body["id"] == "agent-cy" and body["slack_user_id"] == NEWCOMER

    assert (await slack.event(slack.thread_reply(NEWCOMER, header_ts, "Cy here"))).status == 200
    reply = await db.messages.find_one({"direction": "outbound"})
    assert reply["author"] == {"kind": "agent", "id": "agent-cy", "name": "Cy"}
    await quiet(client)
    assert slack_api.calls_to("chat.postEphemeral") == []


async def test_linking_is_admin_only_validated_and_unique(client, db) -> None:
    admin = bearer(client, sub="root", role="admin")
    path = "/api/v1/agents/agent-ada"
    resp = await client.patch(path, json={"slack_user_id": "U0X"}, headers=bearer(client))
    assert resp.status == 403
    resp = await client.patch(path, json={"slack_user_id": "not an id"}, headers=admin)
    assert (resp.status, (await resp.json())["error"]["code"]) == (400, "invalid_request")
    resp = await client.patch(path, json={}, headers=admin)
    assert resp.status == 400
    resp = await client.patch("/api/v1/agents/nobody", json={"slack_user_id": "U0X"}, headers=admin)
    assert resp.status == 404
    resp = await client.patch(path, json={"slack_user_id": BO}, headers=admin)
    assert (resp.status, (await resp.json())["error"]["code"]) == (409, "slack_user_taken")
    assert (await db.agents.find_one({"_id": "agent-bo"}))["slack_user_id"] == BO

    resp = await client.patch(path, json={"slack_user_id": None}, headers=admin)
    assert resp.status == 200 and (await resp.json())["slack_user_id"] is None


async def test_unlinked_agent_can_no_longer_claim(
    client, db, slack: SlackSender, slack_api: FakeSlackApi
) -> None:
    conversation_id, header_ts = await open_thread(client, db, slack_api)
    resp = await client.patch(
        "/api/v1/agents/agent-bo",
        json={"slack_user_id": None},
        headers=bearer(client, sub="root", role="admin"),
    )
    assert resp.status == 200
    await slack.press(BO, "chorus_claim", conversation_id, header_ts)
    await slack_calls(slack_api, "chat.postEphemeral", user=BO)
    stored = await db.conversations.find_one({"_id": conversation_id})
    assert stored["assignee"] is None
