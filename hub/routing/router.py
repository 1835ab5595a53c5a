"""The router: hands conversations to humans, assigns them by policy, keeps the SLA.

Every status or assignee change is recorded in ``conversation_events`` by ``record``, an
inbox listener, so changes made anywhere (API, bot, Slack) are recorded the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter, OrderedDict
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from hub.config.model import AssignmentConfig
from hub.domain import Agent, Author, Conversation, utcnow
from hub.errors import ConversationChanged, StorageError
from hub.routing.assignment import pick_agent, sla_priority
from hub.routing.metrics import HUMAN_STAGES
from hub.routing.states import (
    Assign,
    Handoff,
    InvalidTransition,
    RoutingState,
    apply,
    stage_of,
)
from hub.runtime.background import BackgroundLoop
from hub.runtime.events import EventBus, InboxEvent
from hub.runtime.metrics import HubMetrics
from storage.agents import AgentStore
from storage.routing import RoutingStore
from storage.webhook_journal import transition_owed

log = logging.getLogger(__name__)

QUEUE_BATCH = 200
HANDED_OFF_REMEMBERED = 10_000
BOT_DISABLED = Author(kind="bot", id="bot", name="")


def actor_name(actor: Author | None) -> str:
    if actor is None:
        return "system"
    return "bot" if actor.kind == "bot" else f"{actor.kind}:{actor.id}"


class RoutedHub(Protocol):
    """What the router needs of the hub core (``hub.core.hub.Hub``), named here so routing
    does not import the core that imports routing's state machine."""

    @property
    def metrics(self) -> HubMetrics: ...
    @property
    def agents(self) -> AgentStore: ...
    @property
    def events(self) -> EventBus: ...

    async def require_conversation(self, conversation_id: str) -> Conversation: ...

    async def update_conversation(
        self,
        conversation_id: str,
        changes: Mapping[str, Any],
        *,
        actor: Author | None = None,
        reason: str | None = None,
        previous: Conversation | None = None,
        expect_routing: bool = False,
    ) -> Conversation: ...

    async def set_agent_online(self, agent_id: str, online: bool) -> Agent: ...


class Router:
    """Handoff, manual claims, policy assignment and the periodic SLA check."""

    def __init__(self, hub: RoutedHub, store: RoutingStore, config: AssignmentConfig) -> None:
        self.hub = hub
        self.store = store
        self.config = config
        self._lock = asyncio.Lock()
        self._handing_off: set[str] = set()
        # When this process handed each conversation off (without the bot): messages of a
        # burst stored before that carry the conversation still in ``bot``.
        self._handed_off: OrderedDict[str, datetime] = OrderedDict()
        self._next_pass: asyncio.Future[int] | None = None
        # A failed check (a bug, the database away) is retried; assignment never stops.
        self._loop = BackgroundLoop(
            "routing check",
            self.tick,
            interval=config.check_seconds,
            expected=(StorageError,),
            logger=log,
        )

    async def loads(self) -> Counter[str]:
        """Open conversations per agent: what capacity is measured against."""
        return await self.store.loads()

    # -- transitions ---------------------------------------------------------------
    async def record(self, event: InboxEvent) -> None:
        """Inbox listener: write one ``conversation_events`` row per transition."""
        conversation = event.conversation
        to_stage = stage_of(conversation.status, conversation.assignee)
        if event.kind == "message":
            if event.new_conversation and event.message is not None:
                await self.store.record_transition(
                    conversation.id,
                    None,
                    to_stage,
                    actor=actor_name(event.message.author),
                    reason="new conversation",
                    at=conversation.created_at,
                )
            return
        previous = event.previous
        if previous is None:
            return
        from_stage = stage_of(previous.status, previous.assignee)
        if from_stage == to_stage and previous.assignee == conversation.assignee:
            return
        # Counted here, where every transition passes once, as the desk's bot metrics
        # count them from the rows written below.
        if from_stage == "bot" and to_stage in HUMAN_STAGES:
            self.hub.metrics.bot_handed_off(conversation.channel, event.reason or "unknown")
        elif from_stage == "bot" and to_stage == "resolved":
            self.hub.metrics.bot_resolved(conversation.channel)
        await self.store.record_transition(
            conversation.id,
            from_stage,
            to_stage,
            actor=actor_name(event.actor),
            reason=event.reason,
            assignee=conversation.assignee,
            at=conversation.updated_at,
        )

    async def handoff(
        self,
        conversation_id: str,
        reason: str,
        actor: Author,
        seen: Conversation | None = None,
    ) -> Conversation:
        """The bot gives up the conversation: it joins the open queue, then the policy runs.

        ``seen``, the conversation as an event carried it, saves reading it: the change
        applies only if its status and assignee are still those (say, no agent claimed it
        meanwhile); otherwise the conversation is read and the transition checked again.
        """
        updated = None
        if seen is not None and seen.id == conversation_id:
            with contextlib.suppress(ConversationChanged, InvalidTransition):
                updated = await self._hand_off(seen, reason, actor, expect_routing=True)
        if updated is None:
            conversation = await self.hub.require_conversation(conversation_id)
            updated = await self._hand_off(conversation, reason, actor)
        if await self.assign_waiting():
            return await self.hub.require_conversation(conversation_id)
        return updated

    async def _hand_off(
        self, conversation: Conversation, reason: str, actor: Author, expect_routing: bool = False
    ) -> Conversation:
        new = apply(RoutingState(conversation.status, conversation.assignee), Handoff(reason))
        return await self.hub.update_conversation(
            conversation.id,
            {
                "status": new.status,
                "assignee": None,
                "waiting_since": utcnow(),
                "handoff_reason": reason,
            },
            actor=actor,
            reason=reason,
            previous=conversation,
            expect_routing=expect_routing,
        )

    async def hand_off_without_bot(self, event: InboxEvent) -> None:
        """Inbox listener used when the bot is disabled: customers go straight to humans."""
        message = event.message
        if event.kind != "message" or message is None or message.direction != "inbound":
            return
        conversation = event.conversation
        if conversation.status != "bot" or conversation.id in self._handing_off:
            return  # a burst's later messages find the first one's handoff under way
        handed = self._handed_off.get(conversation.id)
        if handed is not None and conversation.updated_at <= handed:
            return  # read before this process handed it off: nothing to do again
        self._handing_off.add(conversation.id)
        try:
            updated = await self.handoff(
                conversation.id, "bot_disabled", BOT_DISABLED, seen=conversation
            )
        except InvalidTransition:
            return  # an earlier message already handed it off
        finally:
            self._handing_off.discard(conversation.id)
        self._handed_off[conversation.id] = updated.updated_at
        self._handed_off.move_to_end(conversation.id)
        while len(self._handed_off) > HANDED_OFF_REMEMBERED:
            self._handed_off.popitem(last=False)

    async def claim(self, conversation_id: str, agent_id: str, actor: Author) -> Conversation:
        """A manual assignment: it wins over the policy and over capacity."""
        conversation = await self.hub.require_conversation(conversation_id)
        new = apply(RoutingState(conversation.status, conversation.assignee), Assign(agent_id))
        changes: dict[str, object] = {"status": new.status, "assignee": agent_id}
        if conversation.status == "bot":
            changes["handoff_reason"] = "claimed"
        reason = "claimed" if actor.id == agent_id else "assigned"
        return await self.hub.update_conversation(
            conversation_id, changes, actor=actor, reason=reason
        )

    # -- policy ----------------------------------------------------------------------
    async def set_agent_online(self, agent_id: str, online: bool) -> None:
        await self.hub.set_agent_online(agent_id, online)
        if online:
            await self.assign_waiting()

    async def assign_waiting(self) -> int:
        """Give waiting conversations to available agents, most urgent first.

        Every call is served by a pass that starts after it: callers arriving while one
        runs share the next (a burst of handoffs reads agents and loads once, not each)."""
        if self._next_pass is not None:
            return await asyncio.shield(self._next_pass)
        future = self._next_pass = asyncio.get_running_loop().create_future()
        try:
            async with self._lock:
                if self._next_pass is future:
                    self._next_pass = None  # later callers wait for the pass after this one
                assigned = await self._assign_pass()
        except BaseException as exc:
            if self._next_pass is future:
                self._next_pass = None
            if isinstance(exc, asyncio.CancelledError):
                future.cancel()
            else:
                future.set_exception(exc)
                future.exception()  # the callers sharing it may be none: retrieved here
            raise
        future.set_result(assigned)
        return assigned

    async def _assign_pass(self) -> int:
        assigned = 0
        agents = await self.hub.agents.list()
        # Every handoff runs this: with nobody free, skip the queue scan entirely, and
        # otherwise read no more of the queue than there are free seats.
        if not any(a.online for a in agents):
            return 0
        loads = await self.store.loads()
        seats = sum(max(0, a.capacity - loads.get(a.id, 0)) for a in agents if a.online)
        if seats == 0:
            return 0
        last = await self.store.last_assigned()
        for conversation, _ in await self.store.waiting(min(QUEUE_BATCH, seats)):
            agent = pick_agent(agents, loads, self.config.policy, last)
            if agent is None:
                break
            reason = f"policy:{self.config.policy}"
            owed = transition_owed(conversation, {"assignee": agent.id}, None, reason)
            updated = await self.store.assign_if_waiting(conversation.id, agent.id, owed)
            if updated is None:
                continue  # claimed by hand meanwhile: the claim wins
            self.hub.events.publish(
                InboxEvent(
                    "conversation",
                    updated,
                    previous=conversation,
                    reason=reason,
                )
            )
            loads[agent.id] += 1
            last = agent.id
            await self.store.remember_assigned(agent.id)
            assigned += 1
        return assigned

    async def raise_priorities(self) -> int:
        """Raise the priority of conversations waiting longer than the SLA."""
        now = utcnow()
        raised = 0
        for conversation, since in await self.store.waiting(QUEUE_BATCH):
            if since is None:
                continue
            level = sla_priority((now - since).total_seconds(), self.config.sla_seconds)
            if level > conversation.priority:
                await self.hub.update_conversation(
                    conversation.id, {"priority": level}, reason="sla"
                )
                raised += 1
        return raised

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()
        await self.store.close()

    async def tick(self) -> None:
        await self.raise_priorities()
        await self.assign_waiting()
