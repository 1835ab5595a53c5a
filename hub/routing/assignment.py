"""Assignment policies and the SLA priority ladder: pure functions over agents and loads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

from hub.domain import Agent

Policy = Literal["round_robin", "least_loaded"]
MAX_PRIORITY = 3


def available_agents(agents: Sequence[Agent], loads: Mapping[str, int]) -> list[Agent]:
    """Agents who are online and under their capacity, in id order."""
    return sorted(
        (a for a in agents if a.online and loads.get(a.id, 0) < a.capacity), key=lambda a: a.id
    )


def pick_agent(
    agents: Sequence[Agent], loads: Mapping[str, int], policy: Policy, last: str | None
) -> Agent | None:
    """The agent the policy gives the next waiting conversation to, or None if nobody can
    take one. Round robin goes to the next available agent after ``last`` (by id, wrapping);
    least loaded goes to the agent holding the fewest active conversations."""
    available = available_agents(agents, loads)
    if not available:
        return None
    if policy == "least_loaded":
        return min(available, key=lambda a: (loads.get(a.id, 0), a.id))
    for agent in available:
        if last is None or agent.id > last:
            return agent
    return available[0]


def sla_priority(waited_seconds: float, sla_seconds: float) -> int:
    """0 within the SLA, then one step per further SLA period waited, up to ``MAX_PRIORITY``."""
    if waited_seconds < sla_seconds:
        return 0
    return min(MAX_PRIORITY, int(waited_seconds // sla_seconds))
