"""Typed filters build one bounded MongoDB query each: half-open ranges, no ``$or``."""

from __future__ import annotations

from datetime import UTC, datetime

from storage.filters import ConversationFilter, MessageFilter

SINCE = datetime(2026, 11, 1, tzinfo=UTC)
UNTIL = datetime(2026, 12, 1, tzinfo=UTC)


def test_an_empty_filter_matches_everything() -> None:
    assert ConversationFilter().query() == {}
    assert MessageFilter().query() == {}


def test_a_conversation_filter_is_a_half_open_range_on_the_last_message() -> None:
    query = ConversationFilter(
        status="open",
        channels=frozenset({"web", "slack"}),
        assignee="ada",
        label="vip",
        since=SINCE,
        until=UNTIL,
    ).query()
    assert query == {
        "status": "open",
        "channel": {"$in": ["slack", "web"]},
        "assignee": "ada",
        "labels": "vip",
        "last_message_at": {"$gte": SINCE, "$lt": UNTIL},  # $lt: the boundary is not dropped
    }


def test_channels_a_caller_may_not_see_match_nothing() -> None:
    assert ConversationFilter(channels=frozenset()).query() == {"channel": {"$in": []}}
    assert MessageFilter(channels=frozenset({"web"})).query() == {"channel": "web"}


def test_message_text_is_a_literal_case_insensitive_substring() -> None:
    query = MessageFilter(conversation_id="c1", text="a.b*(", until=UNTIL, private=False).query()
    assert query == {
        "conversation_id": "c1",
        "private": False,
        "created_at": {"$lt": UNTIL},
        "text": {"$regex": r"a\.b\*\(", "$options": "i"},
    }


def test_no_filter_builds_an_or() -> None:
    """``$or`` is planned as a collection scan by the embedded server."""
    everything = ConversationFilter("open", frozenset({"a", "b"}), "x", "c", "l", SINCE, UNTIL)
    assert "$or" not in repr(everything.query())
    assert "$or" not in repr(MessageFilter("c", frozenset({"a", "b"}), "inbound").query())
