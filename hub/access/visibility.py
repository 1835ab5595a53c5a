"""Who may see which part of the inbox: one rule for REST answers and live events alike.

Every role may read conversations and their messages, private notes included (the route
table limits what each role may change). A token that lists ``allowed_channels`` sees
only conversations and messages on those channels: REST answers 404 for the others and
filters lists by channel; the live feed drops their events. Both ask this module, so a
rule added here holds on both paths.
"""

from __future__ import annotations

from hub.access.tokens import ROLES, Principal, Role
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


def visible_channels(principal: Principal, requested: str | None) -> frozenset[str] | None:
    """The channels a listing may return (None: any), narrowed to what the caller may see."""
    allowed = principal.allowed_channels
    if principal.role not in INBOX_READERS:
        return frozenset()
    wanted = None if requested is None else frozenset({requested})
    if allowed is None:
        return wanted
    return frozenset(allowed) if wanted is None else wanted & frozenset(allowed)
