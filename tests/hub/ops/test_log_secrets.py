"""A real Telegram send and a refused Slack request leave no token and no body in the log,
at any level: the hub's own logging setup, at DEBUG, is what is read."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from hub.config.model import ChorusConfig
from hub.runtime.logs import QUIET_LOGGERS, setup_logging
from tests.fakes.slack_api import event_callback
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.helpers.hub import MakeClient, bearer, wait_for
from tests.helpers.slack import SIGNING_SECRET, slack_api, slack_config
from tests.helpers.telegram import (
    post_update,
    telegram_server,
    text_update,
    tg_client,
    tg_config,
)

__all__ = ["slack_api", "slack_config", "telegram_server", "tg_client", "tg_config"]

# The shape of a real bot token (the fake's default is shorter than Telegram's).
BOT_TOKEN = "7123456789:AAHk3f_9xZ-QwErTyUiOpAsDfGhJkLzXcVb"


@pytest.fixture
def fake_telegram() -> FakeTelegramAPI:
    return FakeTelegramAPI(token=BOT_TOKEN)


@pytest.fixture
def hub_log() -> Iterator[io.StringIO]:
    """The hub's logging as ``chorus serve`` sets it up, at DEBUG, written here."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    out = io.StringIO()
    setup_logging("DEBUG", json_format=True, stream=out)
    yield out
    root.handlers[:], level = saved
    root.setLevel(level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET)


async def test_telegram_send_and_refused_slack_request_log_no_token_or_body(
    hub_log: io.StringIO,
    tg_client: Any,
    fake_telegram: FakeTelegramAPI,
    make_client: MakeClient,
    slack_config: ChorusConfig,
) -> None:
    assert (await post_update(tg_client, text_update(1, "inbound words here"))).status == 200
    resp = await tg_client.get("/api/v1/conversations", headers=bearer(tg_client))
    conversation_id = (await resp.json())["items"][0]["id"]
    resp = await tg_client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"text": "reply words here"},
        headers=bearer(tg_client),
    )
    assert resp.status == 201
    await wait_for(lambda: _present(fake_telegram.sent))

    slack = await make_client(slack_config)
    body = json.dumps(
        event_callback(
            {
                "type": "message",
                "channel": "D1",
                "user": "U1",
                "text": "slack words here",
                "ts": "1.000001",
                "channel_type": "im",
            },
            "Ev0REFUSED",
        )
    )
    resp = await slack.post(
        "/webhooks/slack/events",
        data=body.encode(),
        headers={
            "Content-Type": "application/json",
            "X-Slack-Request-Timestamp": "1700000000",
            "X-Slack-Signature": "v0=" + "0" * 64,
        },
    )
    assert resp.status == 401

    # Quieting bolt quiets bolt only: the hub's own loggers still write INFO.
    assert logging.getLogger("chorus.progress").isEnabledFor(logging.INFO)

    written = hub_log.getvalue()
    assert '"level": "DEBUG"' in written  # DEBUG lines were written and are read here
    assert "outbound sent" in written
    for secret in (BOT_TOKEN, BOT_TOKEN.split(":")[1], SIGNING_SECRET):
        assert secret not in written
    for text in ("inbound words here", "reply words here", "slack words here"):
        assert text not in written, text


async def _present(value: Any) -> Any:
    return value
