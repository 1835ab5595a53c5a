"""``SlackAdapter``: slack-bolt mounted on the hub's aiohttp app, and delivery to Slack.

Bolt's middleware verifies every request (v0 signature, timestamp within 5 minutes),
answers ``url_verification`` and drops the app's own events; the listeners here only
hand work to background tasks. An event is acknowledged once it is stored, and never
later than ``ACK_BUDGET_SECONDS`` (Slack retries what it has not seen acknowledged within
3 s); each ``event_id`` is processed once, whatever Slack's retries.

Headers the SDK's verifier would choke on (a timestamp that is not an integer, a
signature or body that is not ASCII / UTF-8) are refused with 401 before bolt sees them.
Bolt's logger is kept at WARNING: at INFO it writes the body of every request whose
signature fails, and those bodies are what people wrote.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Sequence
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError, SlackRequestError

from adapters.slack import render
from adapters.slack.agent_view import AgentThreads
from adapters.slack.commands import AgentCommands
from adapters.slack.config import SlackConfig
from adapters.slack.files import SlackFiles
from adapters.slack.inbound import SlackInbound
from adapters.slack.web_api import delivery_failure, make_client
from hub.channels.port import HubPort
from hub.domain import Channel, DeliveryResult, OutboundMessage
from hub.errors import ChorusError, Unauthorized

log = logging.getLogger(__name__)

EVENTS_PATH = "/webhooks/slack/events"
INTERACTIONS_PATH = "/webhooks/slack/interactions"
COMMANDS_PATH = "/webhooks/slack/commands"
ACK_BUDGET_SECONDS = 2.0
COMMAND = "/chorus"
TIMESTAMP = re.compile(r"[0-9]{1,12}")
BOLT_LOGGER = "adapters.slack.bolt"


class SlackAdapter:
    """The Slack channel: agents' threads, Slack DM customers, and delivery to them."""

    channel: Channel = "slack"

    def __init__(self, config: SlackConfig, hub: HubPort) -> None:
        self.config = config
        self.hub = hub
        self.client = make_client(config, retry_rate_limits=True)
        self.delivery_client = make_client(config, retry_rate_limits=False)
        self.threads = AgentThreads(hub, self.client, config)
        self.inbound = SlackInbound(hub, self.client, self.threads, self.spawn)
        self.commands = AgentCommands(hub, self.client)
        self._tasks: set[asyncio.Task[None]] = set()
        self.bolt = self._bolt_app()

    def _bolt_app(self) -> AsyncApp:
        bolt_log = logging.getLogger(BOLT_LOGGER)
        # Before the app exists: bolt's middlewares copy this level when they are built.
        bolt_log.setLevel(logging.WARNING)
        app = AsyncApp(
            # Bolt gives its listeners a logger named after the app, with this level: the
            # name keeps that logger ours (an app named "chorus" would quiet "chorus.*").
            name=BOLT_LOGGER,
            client=self.client,
            signing_secret=self.config.signing_secret.get_secret_value(),
            # Bolt answers Slack once a listener returns. Ours return as soon as the event
            # is stored (or ACK_BUDGET_SECONDS passed), so the ack follows the durable write.
            process_before_response=True,
            logger=bolt_log,
        )
        app.event("message")(self._on_message_event)
        app.action(render.CLAIM_ACTION)(self._on_button)
        app.action(render.RESOLVE_ACTION)(self._on_button)
        app.command(COMMAND)(self._on_command)
        return app

    # -- lifecycle ----------------------------------------------------------------------
    def routes(self) -> Sequence[web.AbstractRouteDef]:
        return [
            web.post(path, self.handle_request)
            for path in (EVENTS_PATH, INTERACTIONS_PATH, COMMANDS_PATH)
        ]

    async def start(self) -> None:
        for slack_user_id, agent_id in self.config.agents.items():
            await self.hub.link_agent("slack", agent_id, slack_user_id, take_over=True)
        self.hub.subscribe(self.threads.on_inbox_event)

    async def stop(self) -> None:
        await self.idle(ACK_BUDGET_SECONDS)
        for task in list(self._tasks):
            task.cancel()

    async def idle(self, grace: float = 10.0) -> None:
        """Wait for background work (event processing, replies to buttons) to finish."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=grace)

    def spawn(self, work: Awaitable[None]) -> asyncio.Task[None]:
        """Run ``work`` in the background, tracked so ``stop`` can wait for it."""
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("slack background work failed", exc_info=task.exception())

    # -- HTTP ---------------------------------------------------------------------------
    async def handle_request(self, request: web.Request) -> web.Response:
        if not await _verifiable(request):
            raise _bad_signature()
        response = await self.bolt.async_dispatch(await to_bolt_request(request))
        if response.status == 401:
            raise _bad_signature()
        if response.status == 404 and request.path == EVENTS_PATH:
            # An event type we do not handle: acknowledge it so Slack stops retrying.
            return web.Response(status=200)
        return await to_aiohttp_response(response)

    # -- bolt listeners -----------------------------------------------------------------
    async def _on_message_event(
        self, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        work = self.spawn(self._process_event(body, event, context.bot_user_id))
        try:
            await asyncio.wait_for(asyncio.shield(work), timeout=ACK_BUDGET_SECONDS)
        except TimeoutError:
            log.warning("slack event acknowledged before it was stored")
        # An exception from the work propagates: bolt answers 500 and Slack retries.

    async def _process_event(
        self, body: dict[str, Any], event: dict[str, Any], bot_user_id: str | None
    ) -> None:
        event_id = str(body.get("event_id") or "")
        if event_id and not await self.hub.channel_state.first_sighting("slack", event_id):
            log.info("slack event retry ignored", extra={"event_id": event_id})
            return
        try:
            await self.inbound.on_message(event, bot_user_id)
        except Exception:
            if event_id:  # let Slack's retry of this event be taken
                await self.hub.channel_state.forget_sighting("slack", event_id)
            raise

    async def _on_button(self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        channel = (body.get("channel") or {}).get("id") or self.config.agent_channel
        self.spawn(
            self.commands.on_button(
                action["action_id"], str(action.get("value", "")), body["user"]["id"], channel
            )
        )

    async def _on_command(
        self, ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        self.spawn(self.commands.on_command(command.get("text", ""), command["user_id"], respond))

    # -- delivery -----------------------------------------------------------------------
    async def send(self, outbound: OutboundMessage) -> DeliveryResult:
        """Deliver a reply to a Slack customer in their DM channel (or thread)."""
        channel = outbound.route.get("channel")
        if not channel:
            return DeliveryResult.failed("no Slack channel to answer in")
        args: dict[str, Any] = {
            "channel": channel,
            "text": render.with_links(outbound.text, outbound.attachments),
        }
        if outbound.route.get("thread_ts"):
            args["thread_ts"] = outbound.route["thread_ts"]
        failed = await self._send_files(outbound, channel, args.get("thread_ts"))
        if failed is not None:
            return failed
        try:
            response = await self.delivery_client.chat_postMessage(**args)
        except SlackApiError as exc:
            return delivery_failure(exc)
        except (aiohttp.ClientError, TimeoutError) as exc:
            return DeliveryResult.failed(f"network error: {type(exc).__name__}", retryable=True)
        return DeliveryResult.sent(str(response["ts"]))

    async def _send_files(
        self, outbound: OutboundMessage, channel: str, thread_ts: str | None
    ) -> DeliveryResult | None:
        """Upload the reply's stored files first, once (claimed, so a retry of the text
        does not upload them again); a failure to report, or None."""
        media = self.hub.media
        if media is None or not any(a.media_id for a in outbound.attachments):
            return None
        claim = f"files:{outbound.message_id}"
        if not await self.hub.channel_state.first_sighting("slack", claim):
            return None
        files = SlackFiles(
            self.delivery_client, self.config.api_base_url, self.config.request_timeout_seconds
        )
        try:
            await files.upload(media, outbound.attachments, channel, thread_ts)
        except SlackApiError as exc:
            await self.hub.channel_state.forget_sighting("slack", claim)
            return delivery_failure(exc)
        except (aiohttp.ClientError, TimeoutError, SlackRequestError, ChorusError) as exc:
            await self.hub.channel_state.forget_sighting("slack", claim)
            return DeliveryResult.failed(
                f"file upload failed: {type(exc).__name__}", retryable=True
            )
        return None


def _bad_signature() -> Unauthorized:
    return Unauthorized(
        "the Slack signature is invalid or the request timestamp is stale",
        code="invalid_signature",
    )


async def _verifiable(request: web.Request) -> bool:
    """Whether the request is shaped so that the signature check can answer yes or no."""
    timestamp = request.headers.get("X-Slack-Request-Timestamp")
    signature = request.headers.get("X-Slack-Signature")
    if timestamp is None or signature is None or TIMESTAMP.fullmatch(timestamp) is None:
        return False
    if not signature.isascii():
        return False
    try:
        (await request.read()).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
