"""Replies to Telegram: long texts split, rate limits honoured, failures and blocks recorded."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from adapters.telegram.sender import split_text
from hub.state import HUB
from tests.fakes.telegram_api import MAX_TEXT
from tests.helpers.hub import bearer, wait_for
from tests.helpers.telegram import CHAT_ID, post_update, telegram_config, text_update


async def _conversation(client) -> str:
    await post_update(client, text_update(1, "hi"))
    resp = await client.get("/api/v1/messages?channel=telegram", headers=bearer(client))
    return (await resp.json())["items"][0]["conversation_id"]


async def _reply(client, conversation_id: str, text: str) -> str:
    resp = await client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"text": text},
        headers=bearer(client),
    )
    assert resp.status == 201
    return (await resp.json())["id"]


async def _settled(db, message_id: str) -> dict:
    async def done():
        doc = await db.messages.find_one({"_id": message_id})
        return doc if doc["delivery"]["status"] in ("sent", "failed") else None

    return await wait_for(done, within=15)


def _paragraphs(count: int, words: int) -> str:
    return "\n\n".join(" ".join(f"p{p}w{w}" for w in range(words)) for p in range(count))


def test_split_prefers_paragraphs_then_words() -> None:
    text = _paragraphs(6, 150)  # ~1000 characters per paragraph
    parts = split_text(text, 2500)
    assert all(len(part) <= 2500 for part in parts)
    assert all(not part.startswith(" ") and not part.endswith(" ") for part in parts)
    # Each part ends where a paragraph ends.
    assert "\n\n".join(parts) == text

    one_paragraph = " ".join(f"word{n}" for n in range(2000))
    parts = split_text(one_paragraph, 4096)
    assert len(parts) > 1 and all(len(p) <= 4096 for p in parts)
    assert " ".join(parts) == one_paragraph  # split between words, none cut


def test_split_counts_utf16_and_cuts_unbreakable_runs() -> None:
    emoji = "😀" * 3000  # 6000 UTF-16 code units, no boundary anywhere
    parts = split_text(emoji)
    assert [len(p.encode("utf-16-le")) // 2 for p in parts] == [4096, 1904]
    assert "".join(parts) == emoji
    assert split_text("  short  ") == ["short"]
    assert split_text("   ") == []


@given(st.text(alphabet=st.sampled_from("ab é😀\n"), max_size=400), st.integers(20, 120))
def test_split_never_exceeds_limit_or_loses_words(text: str, limit: int) -> None:
    parts = split_text(text, limit)
    assert all(0 < len(p.encode("utf-16-le")) // 2 <= limit for p in parts)
    assert "".join("".join(parts).split()) == "".join(text.split())


async def test_long_reply_arrives_as_several_messages_in_order(
    tg_client, fake_telegram, db
) -> None:
    text = _paragraphs(14, 130)  # ~10,900 characters
    message_id = await _reply(tg_client, await _conversation(tg_client), text)
    doc = await _settled(db, message_id)
    assert doc["delivery"]["status"] == "sent"
    texts = [s["text"] for s in fake_telegram.sent]
    assert len(texts) == 3 and all(len(t) <= MAX_TEXT for t in texts)
    assert "\n\n".join(texts) == text
    assert {s["chat_id"] for s in fake_telegram.sent} == {CHAT_ID}
    assert len(doc["delivery"]["platform_id"].split(",")) == 3


async def test_failure_midway_resumes_without_repeating_parts(tg_client, fake_telegram, db) -> None:
    fake_telegram.fail_next("sendMessage", 502, "Bad Gateway", skip=1)
    text = _paragraphs(14, 130)
    message_id = await _reply(tg_client, await _conversation(tg_client), text)
    doc = await _settled(db, message_id)
    assert doc["delivery"]["status"] == "sent" and doc["delivery"]["attempts"] == 2
    assert len(fake_telegram.calls_of("sendMessage")) == 4  # 1 ok, 1 failed, 2 on retry
    assert "\n\n".join(s["text"] for s in fake_telegram.sent) == text


async def test_rate_limit_waits_retry_after_then_sends(tg_client, fake_telegram, db) -> None:
    fake_telegram.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    message_id = await _reply(tg_client, await _conversation(tg_client), "Thanks for waiting")
    doc = await _settled(db, message_id)
    assert doc["delivery"]["status"] == "sent" and doc["delivery"]["attempts"] == 2
    first, second = fake_telegram.times_of("sendMessage")
    # The outbox's own first retry delay is 0.05 s in tests: the wait came from retry_after.
    assert second - first >= 0.95
    assert [s["text"] for s in fake_telegram.sent] == ["Thanks for waiting"]


async def test_server_errors_and_timeouts_are_retried(
    telegram_server, fake_telegram, make_client, config, db
) -> None:
    client = await make_client(
        telegram_config(config, telegram_server, fake_telegram.token, request_timeout_seconds=0.5)
    )
    fake_telegram.fail_next("sendMessage", 500, "Internal Server Error")
    fake_telegram.fail_next("sendMessage", 502, "Bad Gateway", delay=1.5)  # times out
    message_id = await _reply(client, await _conversation(client), "Back online")
    doc = await _settled(db, message_id)
    assert doc["delivery"]["status"] == "sent" and doc["delivery"]["attempts"] == 3
    assert [s["text"] for s in fake_telegram.sent] == ["Back online"]


async def test_blocked_bot_fails_message_and_marks_identity_unreachable(
    tg_client, fake_telegram, db
) -> None:
    fake_telegram.block(CHAT_ID)
    message_id = await _reply(tg_client, await _conversation(tg_client), "Are you there?")
    doc = await _settled(db, message_id)
    assert doc["delivery"]["status"] == "failed"
    assert "blocked" in doc["delivery"]["reason"]
    assert len(fake_telegram.calls_of("sendMessage")) == 1  # not retried
    registry = tg_client.app[HUB].metrics.registry

    async def counted() -> bool:  # counted just after the outcome is written
        failed = registry.get_sample_value("chorus_outbound_failed_total", {"channel": "telegram"})
        return failed == 1

    await wait_for(counted)
    contact = await db.contacts.find_one({})
    [identity] = contact["identities"]
    assert identity["channel"] == "telegram" and identity["reachable"] is False
