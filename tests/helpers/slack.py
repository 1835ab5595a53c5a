"""Slack fixtures: the fake Web API on loopback, a hub pointed at it, and a signed sender.

``client`` is overridden here, so every Slack test runs a hub with Slack enabled, its
Web API base URL at the fake, and two Slack users linked to agents through config.
"""

from __future__ import annotations

import itertools
import json
import time
import uuid
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp import ClientResponse, ClientWebSocketResponse, web
from aiohttp.test_utils import TestClient

from adapters.slack.config import SlackConfig
from hub.config.model import ChorusConfig
from hub.state import ADAPTERS
from tests.fakes.slack_api import (
    FakeSlackApi,
    SlackCall,
    block_actions,
    event_callback,
    signed_headers,
)
from tests.helpers.hub import MakeClient, bearer, settle, wait_for

BOT_TOKEN = "xoxb-test-0000-chorus"
SIGNING_SECRET = "test-signing-secret-8f14e45fceea167a"
AGENT_CHANNEL = "C0AGENTS"
ADA = "U0ADA"  # linked to agent-ada by config
BO = "U0BO"  # linked to agent-bo by config
STRANGER = "U0STRANGER"  # a workspace member linked to no agent

Client = TestClient[web.Request, web.Application]


@pytest.fixture
async def slack_api(aiohttp_server: Any) -> FakeSlackApi:
    fake = FakeSlackApi(BOT_TOKEN)
    server = await aiohttp_server(fake.app(), host="127.0.0.1")
    fake.url = str(server.make_url("/"))
    return fake


@pytest.fixture
def slack_config(config: ChorusConfig, slack_api: FakeSlackApi) -> ChorusConfig:
    slack = SlackConfig(
        enabled=True,
        bot_token=BOT_TOKEN,  # type: ignore[arg-type]
        signing_secret=SIGNING_SECRET,  # type: ignore[arg-type]
        agent_channel=AGENT_CHANNEL,
        api_base_url=slack_api.url + "api/",
        agents={ADA: "agent-ada", BO: "agent-bo"},
    )
    return config.model_copy(update={"slack": slack})


@pytest.fixture
async def client(make_client: MakeClient, slack_config: ChorusConfig) -> Client:
    return await make_client(slack_config)


class SlackSender:
    """Posts to the hub what Slack would: signed events, button presses, slash commands."""

    def __init__(self, client: Client, fake: FakeSlackApi) -> None:
        self.client = client
        self.fake = fake
        self._ts = itertools.count(1)

    def ts(self) -> str:
        return f"{int(time.time())}.{900000 + next(self._ts):06d}"

    async def post(
        self,
        path: str,
        body: str,
        content_type: str,
        *,
        timestamp: int | None = None,
        secret: str = SIGNING_SECRET,
        extra_headers: dict[str, str] | None = None,
    ) -> ClientResponse:
        headers = {
            "Content-Type": content_type,
            **signed_headers(secret, body, timestamp),
            **(extra_headers or {}),
        }
        return await self.client.post(path, data=body.encode(), headers=headers)

    async def event(
        self, event: dict[str, Any], *, event_id: str | None = None, retry_num: int | None = None
    ) -> ClientResponse:
        body = json.dumps(event_callback(event, event_id or f"Ev{uuid.uuid4().hex[:10].upper()}"))
        extra = (
            {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}
            if retry_num
            else None
        )
        return await self.post(
            "/webhooks/slack/events", body, "application/json", extra_headers=extra
        )

    def dm(self, user: str, channel: str, text: str, **extra: Any) -> dict[str, Any]:
        """A ``message.im`` event: ``user`` wrote to the app in DM ``channel``."""
        return {
            "type": "message",
            "channel": channel,
            "user": user,
            "text": text,
            "ts": self.ts(),
            "channel_type": "im",
            **extra,
        }

    def thread_reply(self, user: str, thread_ts: str, text: str, **extra: Any) -> dict[str, Any]:
        """A ``message.channels`` event: ``user`` replied in a thread of the agent channel."""
        return {
            "type": "message",
            "channel": AGENT_CHANNEL,
            "user": user,
            "text": text,
            "ts": self.ts(),
            "thread_ts": thread_ts,
            "parent_user_id": "U0CHORUSBOT",
            "channel_type": "channel",
            **extra,
        }

    async def press(
        self, user: str, action_id: str, conversation_id: str, message_ts: str
    ) -> ClientResponse:
        payload = block_actions(
            user,
            AGENT_CHANNEL,
            message_ts,
            action_id,
            conversation_id,
            self.fake.url + "respond/button",
        )
        body = urlencode({"payload": json.dumps(payload)})
        return await self.post(
            "/webhooks/slack/interactions", body, "application/x-www-form-urlencoded"
        )

    async def command(self, user: str, text: str) -> ClientResponse:
        fields = {
            "token": "legacy-verification-token",
            "team_id": "T0CHORUS",
            "team_domain": "chorus-test",
            "channel_id": AGENT_CHANNEL,
            "channel_name": "agents",
            "user_id": user,
            "user_name": user.lower(),
            "command": "/chorus",
            "text": text,
            "api_app_id": "A0CHORUS",
            "response_url": self.fake.url + f"respond/{uuid.uuid4().hex[:8]}",
            "trigger_id": "1.2.3",
        }
        return await self.post(
            "/webhooks/slack/commands", urlencode(fields), "application/x-www-form-urlencoded"
        )


@pytest.fixture
def slack(client: Client, slack_api: FakeSlackApi) -> SlackSender:
    return SlackSender(client, slack_api)


async def slack_calls(
    fake: FakeSlackApi, method: str, count: int = 1, **match: Any
) -> list[SlackCall]:
    """Wait until the fake saw ``count`` calls of ``method`` matching ``match``."""

    async def seen() -> list[SlackCall] | None:
        calls = fake.calls_to(method, **match)
        return calls if len(calls) >= count else None

    found: list[SlackCall] = await wait_for(seen)
    return found


async def slack_responses(fake: FakeSlackApi, count: int = 1) -> list[dict[str, Any]]:
    """Wait until ``count`` messages were posted to response URLs."""

    async def seen() -> list[dict[str, Any]] | None:
        return fake.responses if len(fake.responses) >= count else None

    found: list[dict[str, Any]] = await wait_for(seen)
    return found


async def next_frame(ws: ClientWebSocketResponse, kind: str) -> dict[str, Any]:
    """The next web chat frame of ``kind``, skipping others."""
    while True:
        frame: dict[str, Any] = await ws.receive_json(timeout=10)
        if frame["type"] == kind:
            return frame


async def web_customer_writes(client: Client, ws: ClientWebSocketResponse, text: str) -> str:
    """Grace says hello on the web chat and writes ``text``; returns her conversation id."""
    await ws.send_json({"type": "hello", "name": "Grace"})
    await next_frame(ws, "welcome")
    await ws.send_json({"type": "message", "text": text, "client_id": "first"})
    ack = await next_frame(ws, "ack")
    resp = await client.get(f"/api/v1/messages/{ack['id']}", headers=bearer(client))
    conversation_id: str = (await resp.json())["conversation_id"]
    return conversation_id


async def hand_off(client: Client, db: Any, fake: FakeSlackApi, conversation_id: str) -> str:
    """Hand the conversation to humans through the API; returns its Slack thread's ts."""
    resp = await client.patch(
        f"/api/v1/conversations/{conversation_id}", json={"status": "open"}, headers=bearer(client)
    )
    assert resp.status == 200
    await slack_calls(fake, "chat.postMessage", channel=AGENT_CHANNEL)

    async def linked() -> Any:
        return await db.links.find_one({"conversation_id": conversation_id, "kind": "thread"})

    link = await wait_for(linked)  # the thread is linked right after the header is posted
    header_ts: str = link["key"].split(":", 1)[1]
    return header_ts


async def open_thread(client: Client, db: Any, fake: FakeSlackApi) -> tuple[str, str]:
    """A web customer's conversation handed to humans: (conversation id, thread ts)."""
    async with client.ws_connect("/chat") as ws:
        conversation_id = await web_customer_writes(client, ws, "Where is my parcel?")
    return conversation_id, await hand_off(client, db, fake, conversation_id)


async def quiet(client: Client) -> None:
    """Let every reaction finish: the Slack adapter's background work, then what it caused."""
    await client.app[ADAPTERS]["slack"].idle()  # type: ignore[attr-defined]
    await settle(client)
