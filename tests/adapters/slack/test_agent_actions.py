"""Agents act from Slack: the Claim and Resolve buttons and the ``/chorus`` command."""

from __future__ import annotations

from tests.fakes.slack_api import FakeSlackApi
from tests.helpers.slack import (
    ADA,
    AGENT_CHANNEL,
    BO,
    STRANGER,
    SlackSender,
    open_thread,
    quiet,
    slack_calls,
    slack_responses,
)


async def test_claim_assigns_to_the_pressing_agent_and_updates_the_header(
    client, db, slack: SlackSender, slack_api: FakeSlackApi
) -> None:
    conversation_id, header_ts = await open_thread(client, db, slack_api)
    await quiet(client)  # the hand-off's own header updates are done
    seen = len(slack_api.calls_to("chat.update", ts=header_ts))

    resp = await slack.press(BO, "chorus_claim", conversation_id, header_ts)
    assert resp.status == 200

    update = (await slack_calls(slack_api, "chat.update", count=seen + 1, ts=header_ts))[-1]
    assert update.args["channel"] == AGENT_CHANNEL
    assert "assigned to *agent-bo*" in str(update.args["blocks"])
    stored = await db.conversations.find_one({"_id": conversation_id})
    assert stored["assignee"] == "agent-bo" and stored["status"] == "open"


async def test_resolve_closes_the_conversation_and_drops_the_buttons(
    client, db, slack: SlackSender, slack_api: FakeSlackApi
) -> None:
    conversation_id, header_ts = await open_thread(client, db, slack_api)
    await quiet(client)  # the hand-off's own header updates are done
    seen = len(slack_api.calls_to("chat.update", ts=header_ts))

    resp = await slack.press(ADA, "chorus_resolve", conversation_id, header_ts)
    assert resp.status == 200

    update = (await slack_calls(slack_api, "chat.update", count=seen + 1, ts=header_ts))[-1]
    blocks = update.args["blocks"]
    assert "status *resolved*" in str(blocks)
    assert all(block["type"] != "actions" for block in blocks)
    stored = await db.conversations.find_one({"_id": conversation_id})
    assert stored["status"] == "resolved"


async def test_buttons_from_an_unlinked_slack_user_change_nothing(
    client, db, slack: SlackSender, slack_api: FakeSlackApi
) -> None:
    conversation_id, header_ts = await open_thread(client, db, slack_api)
    await quiet(client)  # the hand-off's own header updates are done
    seen = len(slack_api.calls_to("chat.update", ts=header_ts))

    resp = await slack.press(STRANGER, "chorus_claim", conversation_id, header_ts)
    assert resp.status == 200

    (ephemeral,) = await slack_calls(slack_api, "chat.postEphemeral", user=STRANGER)
    assert "not linked to a Chorus agent" in ephemeral.args["text"]
    await quiet(client)
    stored = await db.conversations.find_one({"_id": conversation_id})
    assert stored["assignee"] is None
    assert len(slack_api.calls_to("chat.update", ts=header_ts)) == seen


async def test_slash_command_lists_open_conversations(
    client, db, slack: SlackSender, slack_api: FakeSlackApi
) -> None:
    conversation_id, _ = await open_thread(client, db, slack_api)

    resp = await slack.command(ADA, "")
    assert resp.status == 200

    (answer,) = await slack_responses(slack_api)
    assert answer["text"].startswith("Open conversations:")
    assert f"`{conversation_id}` Grace on web · unassigned" in answer["text"]


async def test_slash_command_assigns_a_conversation_to_a_mentioned_agent(
    client, db, slack: SlackSender, slack_api: FakeSlackApi
) -> None:
    conversation_id, header_ts = await open_thread(client, db, slack_api)
    await quiet(client)  # the hand-off's own header updates are done
    seen = len(slack_api.calls_to("chat.update", ts=header_ts))

    resp = await slack.command(ADA, f"assign {conversation_id} <@{BO}|bo>")
    assert resp.status == 200

    (answer,) = await slack_responses(slack_api)
    assert answer["text"] == f"Conversation `{conversation_id}` is assigned to agent-bo."
    stored = await db.conversations.find_one({"_id": conversation_id})
    assert stored["assignee"] == "agent-bo"
    update = (await slack_calls(slack_api, "chat.update", count=seen + 1, ts=header_ts))[-1]
    assert "assigned to *agent-bo*" in str(update.args["blocks"])


async def test_slash_command_refuses_bad_input_and_unlinked_users(
    client, db, slack: SlackSender, slack_api: FakeSlackApi
) -> None:
    conversation_id, _ = await open_thread(client, db, slack_api)

    await slack.command(STRANGER, "")
    await slack.command(ADA, f"assign {conversation_id} <@{STRANGER}>")
    await slack.command(ADA, "assign 000000000000000000000000 <@U0BO>")
    await slack.command(ADA, "teleport")
    answers = await slack_responses(slack_api, 4)
    texts = sorted(a["text"] for a in answers)
    assert any("Your Slack account is not linked" in t for t in texts)
    assert any(t == f"&lt;@{STRANGER}&gt; is not linked to a Chorus agent." for t in texts)
    assert any(t.startswith("Not done: conversation 000000000000000000000000") for t in texts)
    assert any(t.startswith("`/chorus` or `/chorus list`") for t in texts)
    stored = await db.conversations.find_one({"_id": conversation_id})
    assert stored["assignee"] is None
