"""What the API's handlers read: one query service over the inbox, routing and bot stores.

Handlers ask it with typed filters and get domain objects (or ``NotFound``, or
``BadRequest`` for a damaged cursor) back; none of them reaches a store itself.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from aiohttp import web

from hub.domain import Contact, Conversation, Message
from hub.errors import BadRequest, NotFound
from storage.bot import BotStore
from storage.filters import ConversationFilter, MessageFilter
from storage.inbox import InboxStore, InvalidCursor
from storage.mongo import MongoStore
from storage.routing import RoutingStore

Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class BotActivity:
    """Routing history and bot feedback since a moment: what bot statistics are made of."""

    started: list[str]
    resolved: set[str]
    history: list[Row]
    first_times: dict[str, dict[str, datetime]]
    ratings: list[int]
    counters: dict[str, int]


class InboxQueries:
    """Read-only questions handlers ask of the inbox."""

    def __init__(self, mongo: MongoStore, bot: BotStore) -> None:
        self._inbox = InboxStore(mongo)
        self._routing = RoutingStore(mongo)
        self._bot = bot

    async def conversations(
        self, filters: ConversationFilter, limit: int, cursor: str | None
    ) -> tuple[list[Conversation], str | None]:
        try:
            return await self._inbox.list_conversations(filters, limit, cursor)
        except InvalidCursor as exc:
            raise BadRequest(str(exc), code="invalid_cursor") from exc

    async def messages(
        self, filters: MessageFilter, limit: int, cursor: str | None
    ) -> tuple[list[Message], str | None]:
        try:
            return await self._inbox.list_messages(filters, limit, cursor)
        except InvalidCursor as exc:
            raise BadRequest(str(exc), code="invalid_cursor") from exc

    async def message(self, message_id: str) -> Message:
        message = await self._inbox.get_message(message_id)
        if message is None:
            raise NotFound(f"message {message_id} not found")
        return message

    async def contact(self, contact_id: str) -> Contact:
        contact = await self._inbox.get_contact(contact_id)
        if contact is None:
            raise NotFound(f"contact {contact_id} not found")
        return contact

    async def channel_of(
        self, kind: Literal["conversation", "message"], object_id: str
    ) -> str | None:
        """The channel a conversation or message is on (None: no such object)."""
        found: Conversation | Message | None
        if kind == "conversation":
            found = await self._inbox.get_conversation(object_id)
        else:
            found = await self._inbox.get_message(object_id)
        return found.channel if found is not None else None

    async def agent_loads(self) -> Counter[str]:
        """How many active conversations each agent holds."""
        return await self._routing.loads()

    async def transitions(self, conversation_id: str) -> list[Row]:
        return await self._routing.transitions(conversation_id)

    async def bot_activity(self, since: datetime, limit: int) -> BotActivity:
        recent = await self._routing.transitions_since(since, limit)
        resolved = {row["conversation_id"] for row in recent if row["to"] == "resolved"}
        started = [row["conversation_id"] for row in recent if row["from"] is None]
        concerned = sorted(resolved | set(started))
        return BotActivity(
            started=started,
            resolved=resolved,
            history=await self._routing.history_of(concerned),
            first_times=await self._routing.first_message_times(started),
            ratings=[row["score"] for row in await self._bot.ratings_since(since)],
            counters=await self._bot.counter_values(),
        )


QUERIES = web.AppKey("inbox_queries", InboxQueries)
