"""Who may see which part of the inbox: one rule for REST answers and live events alike.

Every role may read conversations and their messages, private notes included (the route
table limits what each role may change). A token that lists ``allowed_channels`` sees
only conversations and messages on those channels: REST answers 404 for the others and
filters lists by channel; the live feed drops their events. Both ask this module, so a
rule added here holds on both paths.
"""

from __future__ import annotations

from typing import Any

from hub.auth import ROLES, Principal, Role
from hub.domain import Conversation, Message

# Roles that may read the inbox at all.
INBOX_READERS: frozenset[Role] = frozenset(ROLES)


def may_see_channel(principal: Principal, channel: str | None) -> bool:
    """Whether the caller may see an object on ``channel`` (None: an unknown object)."""
    if principal.role not in INBOX_READERS or channel is None:
        return False
    allowed = principal.allowed_channels
    return allowed is None or channel in allowed


def may_see(principal: Principal, conversation: Conversation, message: Message | None) -> bool:
    """Whether the caller may see this conversation and (if given) this message of it."""
    if not may_see_channel(principal, conversation.channel):
        return False
    return message is None or may_see_channel(principal, message.channel)


def channel_filter(principal: Principal, requested: str | None) -> Any:
    """A list query's channel filter, narrowed to what the caller may see."""
    allowed = principal.allowed_channels
    if principal.role not in INBOX_READERS:
        return {"$in": []}
    if allowed is None:
        return requested
    if requested is not None:
        return requested if requested in allowed else {"$in": []}
    return {"$in": sorted(allowed)}
