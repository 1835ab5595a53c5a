"""A company's own bot behind ``bot.webhook_url``: it answers, or the built-in bot does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.fakes.external_bot import FakeExternalBot
from tests.helpers.bot import chatting, conversation_of, transitions, wait_for_status
from tests.helpers.hub import bearer


@pytest.fixture
async def external(aiohttp_server: Any) -> AsyncIterator[tuple[FakeExternalBot, str]]:
    fake = FakeExternalBot()
    server = await aiohttp_server(fake.app, host="127.0.0.1")
    yield fake, str(server.make_url("/webhook"))
    fake.release.set()


@pytest.fixture
async def chat(client_factory, external):
    fake, url = external
    client = await client_factory(webhook_url=url, webhook_timeout_seconds=0.5)
    async with chatting(client) as customer:
        yield client, customer, fake


async def _stats(client) -> dict[str, Any]:
    resp = await client.get("/api/v1/stats/bot", headers=bearer(client))
    assert resp.status == 200
    return await resp.json()


async def test_the_external_bot_answers_with_its_messages(chat) -> None:
    client, customer, fake = chat
    fake.reply = {"messages": [{"recipient_id": "x", "text": "Rasa says hi"}, "and more"]}
    ack = await customer.say("How long does shipping take?")
    answer = await customer.hear()
    assert answer["text"].endswith("Rasa says hi\n\nand more")
    assert "business days" not in answer["text"]  # the built-in bot stayed out of it
    payload = fake.received[0]
    assert payload["message"]["text"] == "How long does shipping take?"
    assert payload["message"]["id"] == ack["id"]
    assert payload["channel"] == "web" and payload["contact"]["name"] == "Ada"
    assert (await _stats(client))["counters"].get("webhook_failures") is None


async def test_the_external_bot_can_hand_off(chat) -> None:
    client, customer, fake = chat
    fake.reply = {"messages": ["Let me get a colleague."], "handoff": True}
    ack = await customer.say("My parcel arrived broken")
    answer = await customer.hear()
    assert answer["text"].endswith("Let me get a colleague.")
    conversation = await conversation_of(client, ack["id"])
    await wait_for_status(client, conversation["id"], "open")
    rows = await transitions(client, conversation["id"], at_least=2)
    assert rows[-1]["reason"] == "external_bot"


@pytest.mark.parametrize(
    ("mode", "kind"),
    [("hang", "timeout"), ("error", "http_status"), ("garbage", "invalid_response")],
)
async def test_when_the_external_bot_fails_the_built_in_bot_answers_and_it_is_counted(
    chat, mode: str, kind: str
) -> None:
    client, customer, fake = chat
    fake.mode = mode  # type: ignore[assignment]
    await customer.say("How long does shipping take?")
    answer = await customer.hear()
    assert "arrive in 3 to 5 business days" in answer["text"]
    assert len(fake.received) == 1
    counters = (await _stats(client))["counters"]
    assert counters["webhook_failures"] == 1
    assert counters[f"webhook_failures.{kind}"] == 1
    admin = bearer(client, "root", role="admin")
    resp = await client.get("/api/v1/reports/bot", params={"range": "today"}, headers=admin)
    tables = (await resp.json())["tables"]
    assert tables["days"][0]["webhook_failures"] == 1
    assert [(r["kind"], r["count"]) for r in tables["webhook_failures"]] == [(kind, 1)]
