"""Bot metrics from transition records and first-message times.

Containment rate: of the conversations resolved in the period, the share no human ever
held (they never left the bot before resolution). Handoff reasons: why the bot gave
conversations to humans. First response time: from the customer's first message to the
first answer (bot or agent), and from handoff to the first agent answer.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

HUMAN_STAGES = frozenset({"open", "assigned", "pending"})


def _summary(seconds: list[float]) -> dict[str, Any]:
    if not seconds:
        return {"count": 0, "mean_seconds": None, "median_seconds": None}
    return {
        "count": len(seconds),
        "mean_seconds": round(statistics.fmean(seconds), 3),
        "median_seconds": round(statistics.median(seconds), 3),
    }


def bot_metrics(
    transitions: Iterable[Mapping[str, Any]],
    first_times: Mapping[str, Mapping[str, datetime]],
    resolved_in_period: set[str],
) -> dict[str, Any]:
    """``transitions``: the whole history of the conversations concerned, oldest first."""
    human: set[str] = set()
    handoff_at: dict[str, datetime] = {}
    reasons: Counter[str] = Counter()
    for row in transitions:
        if row["to"] in HUMAN_STAGES:
            human.add(row["conversation_id"])
        if row["from"] == "bot" and row["to"] in HUMAN_STAGES:
            reasons[row.get("reason") or "unknown"] += 1
            handoff_at.setdefault(row["conversation_id"], row["at"])
    contained = len(resolved_in_period - human)
    first_answer: list[float] = []
    agent_after_handoff: list[float] = []
    for conversation_id, times in first_times.items():
        asked = times.get("contact")
        answers = [t for kind, t in times.items() if kind in ("bot", "agent")]
        if asked is not None and answers:
            first_answer.append(max(0.0, (min(answers) - asked).total_seconds()))
        handed = handoff_at.get(conversation_id)
        if handed is not None and "agent" in times:
            agent_after_handoff.append(max(0.0, (times["agent"] - handed).total_seconds()))
    return {
        "resolved": len(resolved_in_period),
        "contained": contained,
        "containment_rate": (
            round(contained / len(resolved_in_period), 4) if resolved_in_period else None
        ),
        "handoffs": sum(reasons.values()),
        "handoff_reasons": dict(reasons),
        "first_response": _summary(first_answer),
        "first_human_response_after_handoff": _summary(agent_after_handoff),
    }
