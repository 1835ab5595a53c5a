"""Slack Web API calls shared by the adapter's parts, and how Slack's answers read to Chorus."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.config import SlackConfig
from hub.domain import DeliveryResult

log = logging.getLogger(__name__)

# Slack's error codes that a later attempt may get past.
RETRYABLE_ERRORS = {
    "ratelimited",
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
}
# Error codes that mean this customer cannot be reached in that channel any more.
UNREACHABLE_ERRORS = {
    "channel_not_found",
    "is_archived",
    "account_inactive",
    "user_disabled",
    "cannot_dm_bot",
}


def make_client(config: SlackConfig, *, retry_rate_limits: bool) -> AsyncWebClient:
    """A Web API client for ``config``; with ``retry_rate_limits`` it waits out a 429 itself.

    The delivery client does not: the outbox owns delivery retries and honours
    ``Retry-After`` durably. The client for headers and mirrors, which are not queued
    anywhere, does.
    """
    handlers: list[AsyncRetryHandler] = [AsyncConnectionErrorRetryHandler()]
    if retry_rate_limits:
        handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
    return AsyncWebClient(
        token=config.bot_token.get_secret_value(),
        base_url=config.api_base_url,
        timeout=max(1, round(config.request_timeout_seconds)),
        retry_handlers=handlers,
    )


async def post_ephemeral(
    client: AsyncWebClient, channel: str, user: str, text: str, thread_ts: str | None = None
) -> None:
    """A note only ``user`` sees; failures are logged, since nobody waits for it."""
    try:
        await client.chat_postEphemeral(channel=channel, user=user, text=text, thread_ts=thread_ts)
    except SlackApiError as exc:
        log.warning("slack ephemeral failed", extra={"error": exc.response.get("error")})


def delivery_failure(exc: SlackApiError) -> DeliveryResult:
    """A refused ``chat.postMessage`` as the outbox needs it: Slack's code, retry or not."""
    response = exc.response
    error = str(response.get("error") or f"http_{response.status_code}")
    if response.status_code == 429:
        return DeliveryResult.failed(
            error,
            retryable=True,
            retry_after_seconds=_seconds(response.headers.get("Retry-After")),
        )
    return DeliveryResult.failed(
        error,
        retryable=error in RETRYABLE_ERRORS or response.status_code >= 500,
        unreachable=error in UNREACHABLE_ERRORS,
    )


def _seconds(header: str | None) -> float | None:
    try:
        return max(float(header), 0.0) if header else None
    except ValueError:
        return None
