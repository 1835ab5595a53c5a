"""The inbox relay's stream: it resumes after the last change read, a lost position
makes the inboxes reload, and each change costs few database commands."""

from __future__ import annotations

from collections import Counter

from hub.config.model import ChorusConfig
from hub.domain import Attachment, Author
from hub.runtime.events import InboxEvent
from hub.state import HUB, MONGO
from hub.sync import inbox_relay
from hub.sync.inbox_relay import InboxRelay
from storage.change_feed import ChangeFeed
from storage.inbox_stream import InboxStream
from tests.helpers.commands import COMMANDS
from tests.helpers.hub import wait_for
from tests.helpers.live import RecordingFeed
from tests.helpers.sync import customer_says


async def _relay(client, config: ChorusConfig) -> tuple[InboxRelay, RecordingFeed]:
    feed = RecordingFeed(config)
    relay = InboxRelay(feed, client.app[HUB], InboxStream(ChangeFeed(client.app[MONGO])))
    await relay.start()
    return relay, feed


async def _stop_reading(relay: InboxRelay) -> None:
    """Stop the relay and the change feed under it (as an outage would)."""
    await relay.stop()
    await relay.stream.feed.close()


async def _stored(db, n: int) -> list[str]:
    docs = await db.messages.find({"direction": "inbound"}).sort("_id", 1).to_list()
    return [d["_id"] for d in docs] if len(docs) >= n else []


async def test_after_a_stop_it_resumes_where_it_stopped(make_client, config, db) -> None:
    client = await make_client(config)
    relay, feed = await _relay(client, config)
    await customer_says(client, "ada", "one")
    await wait_for(lambda: _async(len(feed.messages()) == 1))
    await _stop_reading(relay)
    await customer_says(client, "ada", "two")  # while nothing reads the stream
    await customer_says(client, "bea", "three")
    relay.resume()
    await wait_for(lambda: _async(len(feed.messages()) == 3))
    await relay.stop()
    assert feed.messages() == await _stored(db, 3)  # each once, in commit order
    assert feed.closed == []


async def test_a_lost_position_closes_the_sockets_so_inboxes_reload(
    make_client, config: ChorusConfig, short_history_server
) -> None:
    short = config.model_copy(deep=True)
    short.mongo.uri = short_history_server.uri
    client = await make_client(short)
    relay, feed = await _relay(client, short)
    await customer_says(client, "fay", "first")
    await wait_for(lambda: _async(len(feed.messages()) == 1))
    await _stop_reading(relay)
    for n in range(30):
        await customer_says(client, "fay", f"flood {n}")
    await client.app[MONGO].client.admin.command("secantusAdmin.pruneOplog")
    relay.resume()
    await wait_for(lambda: _async(feed.closed == [(1013, b"reload")]))
    await customer_says(client, "gus", "after")  # watched again, from now
    await wait_for(lambda: _async(len(feed.messages()) == 2))
    await relay.stop()
    [first, after] = [e.message for e in feed.events if e.kind == "message" and e.message]
    assert (first.text, after.text) == ("first", "after")


async def test_a_message_from_another_instance_costs_one_read_at_most(
    make_client, config, db
) -> None:
    writer = await make_client(config)  # instance A; the relay below is instance B's
    reader = await make_client(config)
    relay, feed = await _relay(reader, config)
    await customer_says(writer, "ada", "warm up")  # B learns the conversation
    await wait_for(lambda: _async(len(feed.messages()) == 1))
    with COMMANDS.recording(db.name) as commands:
        await customer_says(writer, "ada", "counted")
        await wait_for(lambda: _async(len(feed.messages()) == 2))
    await relay.stop()
    # B reads its conversation from the stream, not the collection; the change itself
    # arrives on getMores the stream sends anyway (one per batch, or per 0.5 s idle).
    assert COMMANDS.reads_by_id("conversations") == 0
    opened = [c for n, _, c in commands if n == "aggregate" and "$changeStream" in c["pipeline"][0]]
    assert opened == []  # no stream opened per change
    print("commands while B relayed one message of A:", Counter(n for n, _, _ in commands))


async def _async(value: bool) -> bool:
    return value


async def test_edits_files_and_conversation_changes_of_another_instance(
    make_client, config, db
) -> None:
    writer = await make_client(config)
    reader = await make_client(config)
    relay, feed = await _relay(reader, config)
    await customer_says(writer, "ada", "helo")
    [stored] = await wait_for(lambda: _stored(db, 1))
    doc = await db.messages.find_one({"_id": stored})
    store = writer.app[HUB].store
    await store.update_conversation(doc["conversation_id"], {"labels": ["vip"]})
    await store.update_conversation(doc["conversation_id"], {"priority": 0})  # shows nothing new
    await store.edit_message("web", doc["external_id"], "hello", {})
    await store.set_attachment(stored, 0, Attachment(kind="image", name="cat.png"))
    await customer_says(writer, "ada", "later")  # stored after them all
    await wait_for(lambda: _async(len(feed.messages()) == 2))
    await relay.stop()
    kinds = [(e.kind, e.message.text if e.message else e.conversation.labels) for e in feed.events]
    assert kinds == [
        ("message", "helo"),
        ("conversation", ()),  # the bot is off: the hub moved it to the open queue
        ("conversation", ("vip",)),
        ("message_updated", "hello"),
        ("message_files", "hello"),
        ("message", "later"),
    ]
    assert feed.events[4].message.attachments[0].name == "cat.png"


async def test_own_changes_are_shown_once_in_stream_order_with_who_and_why(
    make_client, config, db
) -> None:
    writer = await make_client(config)  # instance A, whose relay this is
    other = await make_client(config)  # instance B, on the same database
    relay, feed = await _relay(writer, config)
    writer.app[HUB].subscribe(relay.on_local)
    await customer_says(writer, "ada", "hello")
    [stored] = await wait_for(lambda: _stored(db, 1))
    conversation_id = (await db.messages.find_one({"_id": stored}))["conversation_id"]
    await wait_for(lambda: _async(len(feed.messages()) == 1))
    # B changes the conversation, then A does, a moment later: A's agents must not see
    # A's change (published at once on A's bus) before B's earlier one.
    await other.app[HUB].update_conversation(conversation_id, {"labels": ["first"]})
    bo = Author(kind="agent", id="agent-bo", name="Bo")
    await writer.app[HUB].update_conversation(
        conversation_id, {"labels": ["second"]}, actor=bo, reason="triage"
    )
    await customer_says(writer, "ada", "later")
    await wait_for(lambda: _async(len(feed.messages()) == 2))
    await relay.stop()
    labels = [e.conversation.labels for e in feed.events if e.kind == "conversation"]
    assert labels[-2:] == [("first",), ("second",)]  # commit order, each once
    own = [e for e in feed.events if e.kind == "conversation"][-1]
    assert (own.actor, own.reason) == (bo, "triage")  # as published, not as the stream has it
    assert feed.messages() == await _stored(db, 2)  # each message once


async def test_own_changes_are_shown_when_the_stream_is_down(
    make_client, config, db, monkeypatch
) -> None:
    monkeypatch.setattr(inbox_relay, "HOLD_SECONDS", 0.2)
    client = await make_client(config)
    relay, feed = await _relay(client, config)
    client.app[HUB].subscribe(relay.on_local)
    await customer_says(client, "ada", "hello")
    await wait_for(lambda: _async(len(feed.messages()) == 1))
    await _stop_reading(relay)
    await customer_says(client, "ada", "while the stream is down")
    await wait_for(lambda: _async(len(feed.messages()) == 2))  # after HOLD_SECONDS
    assert feed.messages() == await _stored(db, 2)


async def _held_briefly(make_client, config, db, monkeypatch) -> tuple:
    """A hub with a relay that holds its own changes 0.2 s, and one conversation."""
    monkeypatch.setattr(inbox_relay, "HOLD_SECONDS", 0.2)
    client = await make_client(config)
    relay, feed = await _relay(client, config)
    await customer_says(client, "ada", "hello")
    [stored] = await wait_for(lambda: _stored(db, 1))
    conversation_id = (await db.messages.find_one({"_id": stored}))["conversation_id"]
    return client, relay, feed, conversation_id


async def test_an_own_change_the_stream_showed_first_is_not_shown_again(
    make_client, config, db, monkeypatch
) -> None:
    client, relay, feed, conversation_id = await _held_briefly(make_client, config, db, monkeypatch)
    store = client.app[HUB].store
    # The write's coroutine has not published its event yet when the stream brings it.
    changed = await store.update_conversation(conversation_id, {"labels": ["vip"]})
    await wait_for(lambda: _async(("vip",) in _labels(feed)))
    await store.update_conversation(conversation_id, {"labels": ["vip", "gold"]})
    await wait_for(lambda: _async(("vip", "gold") in _labels(feed)))
    bo = Author(kind="agent", id="agent-bo", name="Bo")
    await relay.on_local(InboxEvent("conversation", changed, actor=bo))
    await relay.settled()  # past the hold: nothing left to show late
    await relay.stop()
    assert _labels(feed)[-2:] == [("vip",), ("vip", "gold")]  # the older state not shown last


async def test_an_overdue_change_the_stream_has_passed_is_not_shown_last(
    make_client, config, db, monkeypatch
) -> None:
    client, relay, feed, conversation_id = await _held_briefly(make_client, config, db, monkeypatch)
    store = client.app[HUB].store
    current = await store.get_conversation(conversation_id)
    # An event whose state the stream never brings (built from an older read, say) ...
    stale = current.model_copy(update={"labels": ("stale",)})
    await relay.on_local(InboxEvent("conversation", stale))
    # ... while the stream brings a later change of the same conversation.
    await store.update_conversation(conversation_id, {"labels": ["fresh"]})
    await wait_for(lambda: _async(("fresh",) in _labels(feed)))
    await relay.settled()
    await relay.stop()
    assert ("stale",) not in _labels(feed)
    assert _labels(feed)[-1] == ("fresh",)


def _labels(feed: RecordingFeed) -> list[tuple[str, ...]]:
    return [e.conversation.labels for e in feed.events if e.kind == "conversation"]
