"""Pure parts of the X channel: thread splitting, payload normalizing, config checks."""

from __future__ import annotations

import pytest

from adapters.twitter.normalize import dm_from_activity, mention_from_activity
from adapters.twitter.outbound import split_thread, weighted_length
from hub.config.model import ConfigError, load_config


def test_short_text_is_one_tweet_and_long_text_is_numbered_parts() -> None:
    assert split_thread("  hello  ") == ["hello"]
    parts = split_thread("a" * 600)
    assert [p.rsplit(" ", 1)[1] for p in parts] == ["1/3", "2/3", "3/3"]
    assert all(weighted_length(p) <= 280 for p in parts)


def test_split_respects_x_weighting_of_cjk_and_links() -> None:
    assert weighted_length("中文") == 4
    assert weighted_length("see https://example.com/a/very/long/path/indeed") == 4 + 23
    parts = split_thread("中" * 200)  # weighs 400: two tweets
    assert len(parts) == 2
    assert all(weighted_length(p) <= 280 for p in parts)


def test_split_keeps_paragraphs_within_a_part() -> None:
    text = "First line.\nSecond line.\n" + "word " * 80
    first = split_thread(text)[0]
    assert first.startswith("First line.\nSecond line.\nword")


def test_activity_tweet_uses_the_extended_text_and_media() -> None:
    tweet = {
        "id_str": "7",
        "created_at": "Wed Oct 10 20:19:24 +0000 2018",
        "text": "@acme truncated… https://t.co/short",
        "truncated": True,
        "user": {"id_str": "2001", "name": "Ada", "screen_name": "ada"},
        "extended_tweet": {
            "full_text": "@acme the whole story https://t.co/link https://t.co/img",
            "entities": {
                "urls": [
                    {
                        "url": "https://t.co/link",
                        "expanded_url": "https://example.com/x",
                        "indices": [22, 39],
                    }
                ],
                "media": [{"url": "https://t.co/img", "indices": [40, 56]}],
            },
            "extended_entities": {
                "media": [
                    {
                        "id_str": "55",
                        "type": "video",
                        "url": "https://t.co/img",
                        "media_url_https": "https://pbs.twimg.com/thumb.jpg",
                        "video_info": {
                            "variants": [
                                {
                                    "bitrate": 320000,
                                    "content_type": "video/mp4",
                                    "url": "https://v/low.mp4",
                                },
                                {
                                    "content_type": "application/x-mpegURL",
                                    "url": "https://v/pl.m3u8",
                                },
                                {
                                    "bitrate": 832000,
                                    "content_type": "video/mp4",
                                    "url": "https://v/high.mp4",
                                },
                            ]
                        },
                    }
                ]
            },
        },
    }
    inbound = mention_from_activity(tweet)
    assert inbound.text == "@acme the whole story https://example.com/x"
    assert inbound.external_id == "tweet:7"
    assert inbound.created_at.year == 2018
    (video,) = inbound.attachments
    assert (video.kind, video.url, video.mime_type) == ("video", "https://v/high.mp4", "video/mp4")


def test_activity_dm_with_a_photo() -> None:
    event = {
        "type": "message_create",
        "id": "9",
        "created_timestamp": "1516403560557",
        "message_create": {
            "sender_id": "2001",
            "message_data": {
                "text": "look https://t.co/p",
                "entities": {"urls": []},
                "attachment": {
                    "type": "media",
                    "media": {
                        "id_str": "1",
                        "type": "photo",
                        "url": "https://t.co/p",
                        "indices": [5, 19],
                        "media_url_https": "https://ton.twitter.com/1.1/ton/data/dm/1/2/a.png",
                    },
                },
            },
        },
    }
    inbound = dm_from_activity(event, {"2001": {"name": "Ada", "screen_name": "ada"}})
    assert inbound is not None
    assert inbound.text == "look"
    assert inbound.thread_key == "dm:2001"
    assert inbound.attachments[0].mime_type == "image/png"
    assert dm_from_activity({"type": "message_read"}, {}) is None


@pytest.mark.parametrize(
    "missing",
    ["consumer_key", "consumer_secret", "access_token", "access_token_secret", "account_user_id"],
)
def test_enabled_without_a_credential_names_the_key(missing: str) -> None:
    environ = {
        "CHORUS_TWITTER__ENABLED": "true",
        "CHORUS_TWITTER__CONSUMER_KEY": "k",
        "CHORUS_TWITTER__CONSUMER_SECRET": "s",
        "CHORUS_TWITTER__ACCESS_TOKEN": "t",
        "CHORUS_TWITTER__ACCESS_TOKEN_SECRET": "ts",
        "CHORUS_TWITTER__ACCOUNT_USER_ID": "1000",
    }
    del environ[f"CHORUS_TWITTER__{missing.upper()}"]
    with pytest.raises(ConfigError, match=f"twitter.{missing} is required"):
        load_config(None, environ=environ)
    assert load_config(None, environ={}).twitter.enabled is False
