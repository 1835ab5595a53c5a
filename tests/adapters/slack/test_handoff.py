"""A web customer handed to humans is worked from a Slack thread, and back again."""

from __future__ import annotations

from tests.fakes.slack_api import BOT_ID, BOT_USER_ID, FakeSlackApi
from tests.helpers.hub import bearer, wait_for
from tests.helpers.slack import (
    ADA,
    AGENT_CHANNEL,
    STRANGER,
    SlackSender,
    hand_off,
    next_frame,
    open_thread,
    quiet,
    slack_calls,
    web_customer_writes,
)


async def test_handoff_opens_a_thread_and_agent_reply_reaches_web_customer(
    client, db, slack: SlackSender, slack_api: FakeSlackApi
) -> None:
    async with client.ws_connect("/chat") as ws:
        conversation_id = await web_customer_writes(client, ws, "My parcel <#42> is late")
        assert slack_api.calls_to("chat.postMessage") == []  # the bot has it until hand-off
        header_ts = await hand_off(client, db, slack_api, conversation_id)

        (header,) = slack_api.calls_to("chat.postMessage", channel=AGENT_CHANNEL)
        assert "thread_ts" not in header.args
        rendered = str(header.args["blocks"])
        assert "Grace" in rendered and "*web*" in rendered and "status *open*" in rendered
        assert "My parcel &lt;#42&gt; is late" in rendered  # escaped for mrkdwn
        buttons = next(b for b in header.args["blocks"] if b["type"] == "actions")["elements"]
        assert [(b["action_id"], b["value"]) for b in buttons] == [
            ("chorus_claim", conversation_id),
            ("chorus_resolve", conversation_id),
        ]
        link = await db.links.find_one({"conversation_id": conversation_id})
        assert (link["channel"], link["kind"]) == ("slack", "thread")
        assert link["key"] == f"{AGENT_CHANNEL}:{header_ts}"

        event = slack.thread_reply(ADA, header_ts, "It left the depot &amp; is near")
        resp = await slack.event(event)
        assert resp.status == 200

        pushed = await next_frame(ws, "message")
        assert pushed["text"] == "It left the depot & is near"
        assert pushed["author"] == {"kind": "agent", "name": "agent-ada"}

    reply = await db.messages.find_one({"direction": "outbound"})
    assert reply["author"]["id"] == "agent-ada"
    assert reply["conversation_id"] == conversation_id

    async def delivered() -> bool:
        doc = await db.messages.find_one({"_id": reply["_id"]})
        return doc["delivery"]["status"] == "sent"

    await wait_for(delivered)
    # The agent's own reply is not echoed back into the thread it was written in.
    await quiet(client)
    assert slack_api.calls_to("chat.postMessage", thread_ts=header_ts) == []


async def test_later_messages_and_api_replies_are_mirrored_into_the_thread(
    client, db, slack_api: FakeSlackApi
) -> None:
    async with client.ws_connect("/chat") as ws:
        conversation_id = await web_customer_writes(client, ws, "Hello")
        header_ts = await hand_off(client, db, slack_api, conversation_id)

        await ws.send_json({"type": "message", "text": "Here is a photo", "client_id": "m2"})
        await next_frame(ws, "ack")
        (mirror,) = await slack_calls(slack_api, "chat.postMessage", thread_ts=header_ts)
        assert mirror.args["channel"] == AGENT_CHANNEL
        assert mirror.args["text"] == "*Grace*: Here is a photo"

        resp = await client.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            json={
                "text": "Thanks, see the label",
                "attachments": [
                    {"kind": "image", "name": "label.png", "url": "https://files.example/l.png"}
                ],
            },
            headers=bearer(client, sub="agent-bo"),
        )
        assert resp.status == 201
        mirrors = await slack_calls(slack_api, "chat.postMessage", 2, thread_ts=header_ts)
        assert mirrors[1].args["text"] == (
            "*agent-bo* (agent): Thanks, see the label\n<https://files.example/l.png|label.png>"
        )


async def test_mirror_all_posts_a_thread_for_every_new_conversation(
    make_client, slack_config, db, slack_api: FakeSlackApi
) -> None:
    slack_config.slack.mirror_all = True
    client = await make_client(slack_config)
    async with client.ws_connect("/chat") as ws:
        await ws.send_json({"type": "message", "text": "hello bot", "client_id": "a"})
        await next_frame(ws, "ack")
    (header,) = await slack_calls(slack_api, "chat.postMessage", channel=AGENT_CHANNEL)
    assert "status *bot*" in str(header.args["blocks"])
    assert "hello bot" in str(header.args["blocks"])

    # The thread's link is written once Slack answered the post, right after it.
    async def linked() -> int:
        return await db.links.count_documents({"kind": "thread"})

    assert await wait_for(linked) == 1


async def test_reply_from_an_unlinked_slack_user_is_refused_privately(
    client, db, slack: SlackSender, slack_api: FakeSlackApi
) -> None:
    _, header_ts = await open_thread(client, db, slack_api)

    resp = await slack.event(slack.thread_reply(STRANGER, header_ts, "I can answer this"))
    assert resp.status == 200

    (ephemeral,) = await slack_calls(slack_api, "chat.postEphemeral", user=STRANGER)
    assert ephemeral.args["channel"] == AGENT_CHANNEL
    assert ephemeral.args["thread_ts"] == header_ts
    assert "not linked to a Chorus agent" in ephemeral.args["text"]
    assert await db.messages.count_documents({"direction": "outbound"}) == 0


async def test_bot_echoes_and_edits_in_the_thread_are_ignored(
    client, db, slack: SlackSender, slack_api: FakeSlackApi
) -> None:
    _, header_ts = await open_thread(client, db, slack_api)

    own_mirror = slack.thread_reply(BOT_USER_ID, header_ts, "*Grace*: hi", bot_id=BOT_ID)
    other_bot = slack.thread_reply("U0OTHERBOT", header_ts, "beep", bot_id="B0OTHER")
    bot_message = slack.thread_reply(ADA, header_ts, "legacy", subtype="bot_message")
    edit = {
        **slack.thread_reply(ADA, header_ts, ""),
        "subtype": "message_changed",
        "message": {"type": "message", "user": ADA, "text": "edited", "ts": "1.1"},
    }
    del edit["user"]
    for event in (own_mirror, other_bot, bot_message, edit):
        assert (await slack.event(event)).status == 200
    await quiet(client)
    assert await db.messages.count_documents({"direction": "outbound"}) == 0
    assert slack_api.calls_to("chat.postEphemeral") == []


async def test_a_visitor_named_like_a_broadcast_mention_pings_nobody(
    client, db, slack_api: FakeSlackApi
) -> None:
    """Slack reads ``<!channel>`` in any posted text, fallback included: all of it is escaped."""
    async with client.ws_connect("/chat") as ws:
        await ws.send_json({"type": "hello", "name": "<!channel> & <@U0ADA>"})
        await next_frame(ws, "welcome")
        await ws.send_json({"type": "message", "text": "<!here> help", "client_id": "1"})
        ack = await next_frame(ws, "ack")
        conversation_id = (await db.messages.find_one({"_id": ack["id"]}))["conversation_id"]
        await hand_off(client, db, slack_api, conversation_id)
        await ws.send_json(
            {"type": "message", "text": "<!everyone> still there?", "client_id": "2"}
        )
        await slack_calls(slack_api, "chat.postMessage", count=2)
    await quiet(client)

    posted = [c for c in slack_api.calls if c.method in ("chat.postMessage", "chat.update")]
    header = posted[0].args
    assert header["text"].startswith("&lt;!channel&gt; &amp; &lt;@U0ADA&gt; on web")
    assert "*&lt;!channel&gt; &amp; &lt;@U0ADA&gt;*" in str(header["blocks"])
    mirrored = next(c.args for c in posted if c.args.get("thread_ts"))
    assert "&lt;!everyone&gt; still there?" in mirrored["text"]
    for call in posted:
        rendered = call.args["text"] + str(call.args.get("blocks", ""))
        assert "<!" not in rendered and "<@" not in rendered, rendered
