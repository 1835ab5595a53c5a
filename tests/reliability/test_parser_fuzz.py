"""Generated payloads for every channel's parser: only the documented errors, same answer twice."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from adapters.slack.inbound import is_human_message
from adapters.telegram.normalize import normalize_update
from adapters.twitter.webhook import activity_messages
from adapters.web.frames import FrameError, parse_frame
from hub.domain import InboundMessage

SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
KEYS = {
    "telegram": [
        "update_id",
        "message",
        "edited_message",
        "from",
        "chat",
        "id",
        "text",
        "caption",
        "date",
        "photo",
        "document",
        "contact",
        "file_id",
        "mime_type",
    ],
    "twitter": [
        "for_user_id",
        "tweet_create_events",
        "direct_message_events",
        "users",
        "id_str",
        "user",
        "text",
        "entities",
        "type",
        "message_create",
        "sender_id",
        "message_data",
        "created_timestamp",
        "id",
        "created_at",
        "extended_tweet",
    ],
    "slack": ["subtype", "bot_id", "user", "ts", "channel", "channel_type", "text", "files"],
}


def shaped(keys: list[str]) -> st.SearchStrategy[Any]:
    """Objects built from the platform's own field names, nested, with any values."""
    return st.recursive(
        SCALARS,
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(keys), inner, max_size=5)
        ),
        max_leaves=25,
    )


def outcome(call: Any, *allowed: type[BaseException]) -> str:
    try:
        return repr(call())
    except allowed as exc:
        return f"{type(exc).__name__}: {exc}"


FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(
    st.text(max_size=300)
    | JSON.map(json.dumps)
    | shaped(
        ["type", "text", "client_id", "visitor_token", "name", "since", "history", "history_since"]
    ).map(json.dumps)
)
def test_chat_frames_raise_only_frame_error(data: str) -> None:
    first = outcome(lambda: parse_frame(data, 4096), FrameError)
    assert first == outcome(lambda: parse_frame(data, 4096), FrameError)


def test_deeply_nested_chat_frame_is_a_frame_error() -> None:
    data = '{"type": "message", "text": ' + "[" * 10_000 + "]" * 10_000 + "}"
    try:
        parse_frame(data, 1_000_000)
    except FrameError as exc:
        assert exc.code == "invalid_json"
    else:
        raise AssertionError("accepted a frame nested 10,000 deep")


@FUZZ
@given(st.dictionaries(st.sampled_from(KEYS["telegram"]), shaped(KEYS["telegram"]), max_size=4))
def test_telegram_normalizer_never_raises(update: dict[str, Any]) -> None:
    first = normalize_update(update)
    assert first == normalize_update(update)
    assert first.kind in ("message", "edit", "unsupported")


# Account Activity shapes that do parse (one mention without created_at, one with): random
# payloads seldom do, and a parse that differs between two runs must be caught.
USER = {"id_str": "2001", "name": "Ada Lovelace", "screen_name": "ada"}
ACTIVITY = {
    "for_user_id": "1",
    "tweet_create_events": [
        {"id_str": "501", "text": "@acme hi", "user": USER},
        {"id_str": "502", "text": "@acme again", "user": USER,
         "created_at": "Wed Oct 10 20:19:24 +0000 2018"},
    ],
}  # fmt: skip


@FUZZ
@given(st.dictionaries(st.sampled_from(KEYS["twitter"]), shaped(KEYS["twitter"]), max_size=4))
@example(ACTIVITY)
def test_x_activity_parser_raises_only_documented_errors(payload: dict[str, Any]) -> None:
    allowed = (KeyError, TypeError, ValueError)
    before = datetime.now(UTC)
    first = outcome(lambda: _stamped_now(activity_messages(payload, "1"), before), *allowed)
    second = outcome(lambda: _stamped_now(activity_messages(payload, "1"), before), *allowed)
    assert first == second


def _stamped_now(messages: list[InboundMessage], before: datetime) -> list[InboundMessage]:
    """The messages with a defaulted ``created_at`` (the time of parsing, when the payload
    has none) blanked: it differs between two parses; everything else must repeat."""
    after = datetime.now(UTC)
    return [
        message.model_copy(update={"created_at": None})
        if message.created_at.tzinfo is not None and before <= message.created_at <= after
        else message
        for message in messages
    ]


@FUZZ
@given(
    st.dictionaries(st.sampled_from(KEYS["slack"]), shaped(KEYS["slack"]), max_size=6),
    st.none() | st.text(max_size=5),
)
def test_slack_event_filter_never_raises(event: dict[str, Any], bot: str | None) -> None:
    assert is_human_message(event, bot) is is_human_message(event, bot)
