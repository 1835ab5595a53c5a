"""``TwitterAdapter``: mentions and DMs of one X account in, reply tweets and DMs out.

Inbound comes by polling (default) or Account Activity webhooks; both hand normalized
messages to ``ingest``, which drops the account's own posts, stores through the hub
(deduplicated on ``tweet:{id}`` / ``dm:{id}``), links each tweet to its conversation
and passes new public mentions to the hub's moderation hook.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from aiohttp import web

from adapters.twitter.client import TwitterApiClient
from adapters.twitter.config import TwitterConfig
from adapters.twitter.normalize import edited_tweet
from adapters.twitter.outbound import TwitterSender
from adapters.twitter.poller import TwitterPoller
from adapters.twitter.webhook import TwitterWebhook
from hub.channels.port import HubPort
from hub.domain import Channel, DeliveryResult, InboundMessage, OutboundMessage, ReceiveResult

log = logging.getLogger(__name__)


class TwitterAdapter:
    """The X channel."""

    channel: Channel = "twitter"

    def __init__(self, config: TwitterConfig, hub: HubPort) -> None:
        self.config = config
        self.hub = hub
        self.account_id = config.account_user_id
        bearer = config.bearer_token.get_secret_value()
        self.client = TwitterApiClient(
            config.api_base_url,
            config.request_timeout_seconds,
            bearer_token=bearer or None,
            consumer_key=config.consumer_key.get_secret_value(),
            consumer_secret=config.consumer_secret.get_secret_value(),
            access_token=config.access_token.get_secret_value(),
            access_token_secret=config.access_token_secret.get_secret_value(),
        )
        self.sender = TwitterSender(self.client, hub.channel_state, hub.media)
        self.poller: TwitterPoller | None = None
        self.webhook: TwitterWebhook | None = None
        if config.mode == "polling":
            self.poller = TwitterPoller(
                self.client,
                hub.channel_state,
                self.account_id,
                config.poll_interval_seconds,
                self.ingest,
                app_auth_mentions=bool(bearer),
            )
        else:
            self.webhook = TwitterWebhook(
                config.consumer_secret.get_secret_value(),
                self.account_id,
                config.webhook_max_body_bytes,
                self.ingest,
            )

    def routes(self) -> Sequence[web.AbstractRouteDef]:
        return self.webhook.routes() if self.webhook else []

    async def start(self) -> None:
        await self.client.open()
        if self.poller is not None:
            self.poller.start()

    async def stop(self) -> None:
        if self.poller is not None:
            await self.poller.stop()
        await self.client.close()

    def status(self) -> dict[str, Any]:
        """Where inbound stands (next poll time, rate-limit windows) for readiness/metrics."""
        if self.poller is not None:
            return self.poller.status()
        return {"mode": "webhook"}

    async def send(self, outbound: OutboundMessage) -> DeliveryResult:
        return await self.sender.send(outbound)

    async def ingest(self, inbound: InboundMessage) -> ReceiveResult | None:
        """Store one normalized message; ``None`` for the account's own posts and for edits
        (applied to the stored tweet)."""
        if inbound.sender_id == self.account_id:
            return None
        if inbound.route.get("kind") != "mention":
            return await self.hub.receive(inbound)
        original = edited_tweet(inbound.raw.get("tweet") or {})
        if original is not None and original != inbound.route["reply_to"]:
            # An edit is a new tweet naming the first one: the stored mention keeps both.
            edited = await self.hub.edit_message(
                "twitter", f"tweet:{original}", inbound.text, dict(inbound.raw)
            )
            if edited is not None:
                return None
        inbound = await self._resolve_thread(inbound)
        tweet_id = str(inbound.route["reply_to"])
        result = await self.hub.receive(inbound)
        await self.hub.channel_state.link(result.conversation.id, "twitter", "tweet", tweet_id)
        if not result.duplicate:
            await self.hub.submit_public_comment(inbound, result.message)
        return result

    async def _resolve_thread(self, inbound: InboundMessage) -> InboundMessage:
        """Webhook tweets lack ``conversation_id``: follow the tweet they reply to."""
        tweet = inbound.raw.get("tweet") or {}
        replied_to = tweet.get("in_reply_to_status_id_str")
        if tweet.get("conversation_id") or not replied_to:
            return inbound
        state = self.hub.channel_state
        conversation_id = await state.conversation_for("twitter", "tweet", str(replied_to))
        if conversation_id is None:
            return inbound
        conversation = await self.hub.require_conversation(conversation_id)
        return inbound.model_copy(update={"thread_key": conversation.thread_key})
