"""The external bot: a company's own bot (Rasa, Botpress, an LLM service) behind a URL.

Each customer message is POSTed as JSON; the answer, within the timeout, is
``{"messages": ["…" or {"text": "…"}], "handoff": false}``. Anything else — a timeout, an
error status, a body that is not that shape — is a failure the caller counts and recovers
from with the built-in bot.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from hub.bot.flows import ExternalAnswer
from hub.domain import Contact, Conversation, Message

MAX_RESPONSE_BYTES = 64 * 1024


class ExternalBotError(Exception):
    """The external bot did not give a usable answer; ``kind`` says how it failed."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind


class _Reply(BaseModel):
    model_config = ConfigDict(extra="ignore")

    messages: list[str] = Field(default_factory=list, max_length=10)
    handoff: bool = False

    @field_validator("messages", mode="before")
    @classmethod
    def _texts(cls, value: Any) -> Any:
        # Rasa's REST channel answers [{"recipient_id": …, "text": …}]; plain strings work too.
        if isinstance(value, list):
            return [item.get("text", "") if isinstance(item, dict) else item for item in value]
        return value


def webhook_payload(
    conversation: Conversation, message: Message, contact: Contact | None
) -> dict[str, Any]:
    """The normalized message as the external bot receives it."""
    return {
        "conversation_id": conversation.id,
        "channel": conversation.channel,
        "contact": {
            "id": message.contact_id,
            "name": contact.name if contact else "",
            "email": contact.email if contact else None,
        },
        "message": {
            "id": message.id,
            "text": message.text,
            "created_at": message.created_at.isoformat(),
            "attachments": [a.model_dump(mode="json") for a in message.attachments],
        },
    }


class ExternalBot:
    """An HTTP client for the configured ``bot.webhook_url``."""

    def __init__(self, url: str, timeout_seconds: float) -> None:
        self.url = url
        self.timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=self.timeout)

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def ask(self, payload: dict[str, Any]) -> ExternalAnswer:
        if self._session is None:
            raise ExternalBotError("not_started", "the external bot client is not started")
        try:
            async with self._session.post(self.url, json=payload) as response:
                if response.status >= 300:
                    raise ExternalBotError("http_status", f"answered {response.status}")
                body = await response.content.read(MAX_RESPONSE_BYTES + 1)
        except TimeoutError as exc:
            raise ExternalBotError("timeout", "no answer in time") from exc
        except aiohttp.ClientError as exc:
            raise ExternalBotError("unreachable", type(exc).__name__) from exc
        except asyncio.CancelledError:
            raise
        if len(body) > MAX_RESPONSE_BYTES:
            raise ExternalBotError("invalid_response", "the answer is too large")
        try:
            reply = _Reply.model_validate(json.loads(body))
        except (ValueError, ValidationError) as exc:
            raise ExternalBotError(
                "invalid_response", "the answer is not the expected JSON"
            ) from exc
        texts = tuple(text.strip() for text in reply.messages if text.strip())
        return ExternalAnswer(messages=texts, handoff=reply.handoff)
