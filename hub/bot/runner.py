"""The bot at work: listens to the inbox and answers customers while a conversation is
the bot's, then hands it to humans.

Answers go through ``Hub.reply`` like an agent's, so they are stored outbound messages
the outbox delivers on the customer's channel. Turns of one conversation are handled one
at a time, in arrival order, so counters such as unanswered turns stay right.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from hub.bot.flows import (
    LOW_CONFIDENCE,
    ExternalAnswer,
    Session,
    Turn,
    capture_email,
    decide,
    parse_rating,
)
from hub.bot.knowledge import load_knowledge_files
from hub.bot.retrieval import KnowledgeIndex
from hub.bot.text import prepare, tokenize
from hub.bot.webhook import ExternalBot, ExternalBotError, webhook_payload
from hub.config.model import BotConfig
from hub.core.hub import Hub
from hub.domain import Author, Conversation, Message, utcnow
from hub.routing.router import Router
from hub.routing.states import InvalidTransition
from hub.runtime.events import InboxEvent
from storage.bot import BotStore
from storage.kb import KnowledgeStore

log = logging.getLogger(__name__)
# Conversations whose last written session this process remembers.
SESSION_CACHE = 10_000


# A turn the knowledge base could not answer: the fallback, or the handoff it led to.
UNANSWERED = (None, LOW_CONFIDENCE)


class BotRunner:
    """The built-in bot (knowledge base + flows), optionally fronted by an external bot."""

    def __init__(
        self,
        hub: Hub,
        config: BotConfig,
        kb: KnowledgeStore,
        store: BotStore,
        router: Router,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.hub = hub
        self.config = config
        self.kb = kb
        self.store = store
        self.router = router
        self.clock = clock
        self.author = Author(kind="bot", id="bot", name=config.name)
        self.index = KnowledgeIndex([])
        self.external = (
            ExternalBot(config.webhook_url, config.webhook_timeout_seconds)
            if config.webhook_url
            else None
        )
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = {}
        # Sessions this process wrote, by conversation, with their turn number: an event
        # read before the bot's last write carries an older turn, and the newer one wins.
        self._sessions: OrderedDict[str, tuple[int, Session]] = OrderedDict()

    async def start(self) -> None:
        """Load the knowledge files into MongoDB and index what is stored."""
        await asyncio.to_thread(prepare)
        entries = await asyncio.to_thread(load_knowledge_files, list(self.config.knowledge_files))
        await self.kb.sync_files(entries)
        await self.reload()
        if self.external is not None:
            await self.external.start()

    async def stop(self) -> None:
        if self.external is not None:
            await self.external.stop()
        await self.store.close()

    async def reload(self) -> None:
        """Rebuild the index from the stored knowledge base (after an edit, say)."""
        entries = await self.kb.all()
        self.index = await asyncio.to_thread(KnowledgeIndex, entries)

    async def on_event(self, event: InboxEvent) -> None:
        """Inbox listener."""
        if event.kind == "conversation":
            await self._on_conversation_change(event)
            return
        message = event.message
        if message is None or message.direction != "inbound" or message.private:
            return
        conversation = event.conversation
        if conversation.status != "bot" and conversation.bot is None:
            return  # handed off with nothing pending: no work, no reads
        async with self._serialized(conversation.id):
            number, session = await self._session(conversation, event.new_conversation)
            if conversation.status != "bot" and not (
                session.awaiting_email or session.rating_pending
            ):
                return
            await self._on_customer_message(conversation, message, number, session)

    async def _session(self, conversation: Conversation, new: bool) -> tuple[int, Session]:
        """The newest of the session the conversation carries and the one last written here."""
        stored = conversation.bot
        cached = self._sessions.get(conversation.id)
        if stored is None and not new and cached is None:
            # Only a conversation from before the session moved onto it has one there; a
            # session written here (the event was read before it) is newer than that.
            stored = await self.store.legacy_session(conversation.id)
        carried = (int((stored or {}).get("turn", 0)), Session.from_doc(stored or {}))
        return cached if cached is not None and cached[0] > carried[0] else carried

    async def _on_conversation_change(self, event: InboxEvent) -> None:
        previous = event.previous
        resolved_now = event.conversation.status == "resolved" and (
            previous is not None and previous.status != "resolved"
        )
        if not resolved_now or not self.config.rating_prompt or event.reason == "rated":
            return
        conversation = event.conversation
        async with self._serialized(conversation.id):
            await self._say(conversation, self.config.rating_prompt)
            number, session = await self._session(conversation, new=False)
            await self._save(
                conversation.id, number, Session(greeted=session.greeted, rating_pending=True)
            )

    async def _on_customer_message(
        self, conversation: Conversation, message: Message, number: int, session: Session
    ) -> None:
        """One customer turn; ``number`` is the turn of the session the bot remembers."""
        if session.rating_pending:
            score = parse_rating(message.text)
            if score is not None:
                await self._rate(conversation, number, score)
                return
            # Not a rating: the customer moved on, so stop waiting for one.
            session = await self._save(conversation.id, number, Session(greeted=session.greeted))
            number += 1
        turn = capture_email(message.text, session, self.config)
        if turn is None and conversation.status == "bot":
            turn = await self._answer(conversation, message, session)
        if turn is None:
            return
        # Hand off before answering: once the customer reads "an agent will be with you",
        # an agent may claim the conversation, and the handoff must not undo that claim.
        if turn.handoff is not None:
            try:
                await self.router.handoff(
                    conversation.id, turn.handoff, self.author, seen=conversation
                )
            except InvalidTransition:
                log.info("handoff skipped: an agent took the conversation first")
        if turn.email is not None:
            await self.hub.store.set_contact_email(conversation.contact_id, turn.email)
        if turn.session != session:  # an unchanged session (the same answer) is not rewritten
            await self._save(conversation.id, number, turn.session)
        if turn.answered is not None:
            await self.store.count("answered")
        if turn.replies:
            # Answer last, so whatever the answer says is already stored when it arrives.
            # One message per turn: channels deliver it as one bubble, in order, and
            # rate-limited platforms see one send instead of several.
            await self._say(conversation, "\n\n".join(turn.replies))

    async def _answer(self, conversation: Conversation, message: Message, session: Session) -> Turn:
        external = await self._ask_external(conversation, message)
        match = None
        if external is None:
            match = self.index.answer(message.text, self.config.confidence_threshold)
        small_talk = not tokenize(message.text)
        turn = decide(
            message.text,
            session,
            self.config,
            match=match,
            now=self.clock(),
            external=external,
            small_talk=small_talk,
        )
        if external is None and match is None and not small_talk and turn.handoff in UNANSWERED:
            await self.store.record_miss(conversation.id, conversation.channel, message.text)
        return turn

    async def _ask_external(
        self, conversation: Conversation, message: Message
    ) -> ExternalAnswer | None:
        if self.external is None:
            return None
        contact = await self.hub.get_contact(message.contact_id)
        try:
            return await self.external.ask(webhook_payload(conversation, message, contact))
        except ExternalBotError as exc:
            log.warning(
                "external bot failed; the built-in bot answers",
                extra={"conversation_id": conversation.id, "failure": exc.kind},
            )
            await self.store.count_webhook_failure(conversation.channel, exc.kind)
            return None

    async def _rate(self, conversation: Conversation, number: int, score: int) -> None:
        await self.store.save_rating(
            conversation.id, conversation.contact_id, score, conversation.assignee
        )
        await self._save(conversation.id, number, Session(greeted=True))
        if self.config.rating_thanks:
            await self._say(conversation, self.config.rating_thanks)
        if conversation.status != "resolved":  # the rating reopened it: close it again
            await self.hub.update_conversation(
                conversation.id, {"status": "resolved"}, actor=self.author, reason="rated"
            )

    async def _say(self, conversation: Conversation, text: str) -> None:
        await self.hub.reply(conversation.id, self.author, text, conversation=conversation)
        self.hub.metrics.bot_replied(conversation.channel)

    async def _save(self, conversation_id: str, turn: int, session: Session) -> Session:
        """Store ``session`` as the turn after ``turn`` and remember it here."""
        await self.store.save_session(conversation_id, {**session.to_doc(), "turn": turn + 1})
        self._sessions[conversation_id] = (turn + 1, session)
        self._sessions.move_to_end(conversation_id)
        while len(self._sessions) > SESSION_CACHE:
            self._sessions.popitem(last=False)
        return session

    @asynccontextmanager
    async def _serialized(self, conversation_id: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault(conversation_id, asyncio.Lock())
        self._users[conversation_id] = self._users.get(conversation_id, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._users[conversation_id] -= 1
            if not self._users[conversation_id]:
                del self._users[conversation_id]
                del self._locks[conversation_id]
