"""The pre-chat and offline forms' contact frame, and when the widget says nobody answers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from adapters.web.config import BusinessHours, WidgetSettings
from hub.core.business_hours import within_hours
from tests.helpers.presence import agent_online, visitor_message
from tests.helpers.web_chat import next_frame


async def test_contact_details_are_kept_on_the_visitors_contact(client, db) -> None:
    async with client.ws_connect("/chat") as visitor:
        await visitor.send_json({"type": "contact", "email": "ada@example.org"})
        assert (await next_frame(visitor, "error"))["code"] == "no_identity"
        await visitor.send_json({"type": "hello"})
        await next_frame(visitor, "welcome")
        await visitor.send_json({"type": "contact", "email": "not an address"})
        assert (await next_frame(visitor, "error"))["code"] == "invalid_frame"
        await visitor.send_json({"type": "contact", "name": "  "})
        assert (await next_frame(visitor, "error"))["code"] == "empty_contact"
        assert await db.contacts.count_documents({}) == 0
        await visitor.send_json({"type": "contact", "name": "Ada", "email": "ada@example.org"})
        await next_frame(visitor, "contact_saved")
        ack = await visitor_message(visitor, "Hello", "c1")
    message = await db.messages.find_one({"_id": ack["id"]})
    contact = await db.contacts.find_one({"_id": message["contact_id"]})
    assert (contact["name"], contact["email"]) == ("Ada", "ada@example.org")
    assert message["author"]["name"] == "Ada"


async def test_availability_follows_hours_and_connected_agents(make_client, config) -> None:
    # The bot answers first: with it on, the widget takes messages with nobody online.
    with_bot = config.model_copy(deep=True)
    with_bot.bot.enabled = True
    resp = await (await make_client(with_bot)).get("/api/v1/widget/availability")
    assert await resp.json() == {"available": True, "reason": None}
    botless = config.model_copy(deep=True)
    botless.bot.enabled = False
    client = await make_client(botless)
    resp = await client.get("/api/v1/widget/availability")
    assert await resp.json() == {"available": False, "reason": "no_agent_online"}
    async with agent_online(client):
        resp = await client.get("/api/v1/widget/availability")
        assert await resp.json() == {"available": True, "reason": None}
    cfg = config.model_copy(deep=True)
    cfg.web.widget = WidgetSettings(hours=BusinessHours(days=[]))
    closed = await make_client(cfg)
    async with agent_online(closed):
        resp = await closed.get("/api/v1/widget/availability")
        assert await resp.json() == {"available": False, "reason": "closed"}


def test_business_hours_in_their_own_timezone() -> None:
    hours = BusinessHours(
        timezone="Asia/Shanghai", days=[0, 1, 2, 3, 4], open="09:00", close="18:00"
    )
    monday_0930_shanghai = datetime(2026, 11, 30, 1, 30, tzinfo=UTC)
    assert within_hours(hours, monday_0930_shanghai)
    assert not within_hours(hours, datetime(2026, 11, 30, 10, 0, tzinfo=UTC))  # 18:00 there
    assert not within_hours(hours, datetime(2026, 12, 5, 2, 0, tzinfo=UTC))  # a Saturday
    assert within_hours(None, datetime(2026, 12, 5, 2, 0, tzinfo=UTC))
    with pytest.raises(ValidationError):
        BusinessHours(timezone="Mars/Olympus")
    with pytest.raises(ValidationError):
        BusinessHours(days=[7])
