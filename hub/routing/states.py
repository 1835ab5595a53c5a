"""The conversation state machine: bot → open (waiting) → assigned → resolved.

``assigned`` is not a stored status: it is an ``open`` (or ``pending``) conversation with
an assignee. ``apply`` is pure, so the rules can be checked exhaustively by property tests;
the router persists what it returns.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from hub.domain import ConversationStatus

Stage = Literal["bot", "open", "assigned", "pending", "resolved"]

ALLOWED: dict[Stage, frozenset[Stage]] = {
    "bot": frozenset({"open", "assigned", "resolved"}),
    "open": frozenset({"assigned", "pending", "resolved", "bot"}),
    "assigned": frozenset({"open", "assigned", "pending", "resolved"}),
    "pending": frozenset({"open", "assigned", "resolved"}),
    "resolved": frozenset({"bot", "open", "assigned"}),
}


class InvalidTransition(ValueError):
    """The conversation cannot go there from where it is."""


def stage_of(status: ConversationStatus, assignee: str | None) -> Stage:
    if status == "open" and assignee:
        return "assigned"
    return status


def reopen_status(assignee: str | None) -> ConversationStatus:
    """Where a resolved conversation goes when the customer writes again in the window:
    back to its agent when a human had it, else back to the bot."""
    return "open" if assignee else "bot"


@dataclass(frozen=True, slots=True)
class RoutingState:
    status: ConversationStatus
    assignee: str | None = None
    resolved_at: datetime | None = None

    @property
    def stage(self) -> Stage:
        return stage_of(self.status, self.assignee)


@dataclass(frozen=True, slots=True)
class Handoff:
    """The bot gives the conversation to humans."""

    reason: str


@dataclass(frozen=True, slots=True)
class Assign:
    """An agent takes it (a manual claim) or the policy gives it to one."""

    agent_id: str


@dataclass(frozen=True, slots=True)
class Unassign:
    pass


@dataclass(frozen=True, slots=True)
class Resolve:
    at: datetime


@dataclass(frozen=True, slots=True)
class CustomerWrote:
    at: datetime
    window: timedelta


Action = Handoff | Assign | Unassign | Resolve | CustomerWrote


def apply(state: RoutingState, action: Action) -> RoutingState:
    """The state after ``action``; raises ``InvalidTransition`` when it is not allowed."""
    if isinstance(action, Handoff):
        if state.status != "bot":
            raise InvalidTransition(f"only the bot hands off, not a {state.stage} conversation")
        new = replace(state, status="open", assignee=None)
    elif isinstance(action, Assign):
        if state.status == "resolved":
            raise InvalidTransition("a resolved conversation cannot be assigned")
        status: ConversationStatus = "pending" if state.status == "pending" else "open"
        new = replace(state, status=status, assignee=action.agent_id)
    elif isinstance(action, Unassign):
        if state.assignee is None or state.status == "resolved":
            raise InvalidTransition("only an active conversation with an assignee is unassigned")
        new = replace(state, assignee=None, status="open")
    elif isinstance(action, Resolve):
        if state.status == "resolved":
            raise InvalidTransition("the conversation is already resolved")
        new = replace(state, status="resolved", resolved_at=action.at)
    else:
        if state.status != "resolved" or state.resolved_at is None:
            return state
        if action.at - state.resolved_at > action.window:
            return state  # too late: the customer starts a new conversation
        new = replace(state, status=reopen_status(state.assignee), resolved_at=None)
    if new.stage != state.stage and new.stage not in ALLOWED[state.stage]:
        raise InvalidTransition(f"{state.stage} cannot become {new.stage}")  # pragma: no cover
    return new
