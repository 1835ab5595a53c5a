"""Report figures from daily buckets (``storage.reports``): filter rows, then summarise.

Every panel is a few flat tables (lists of rows with the same keys), so the same numbers
serve the JSON answer, the CSV download and the charts' table alternatives.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

Table = list[dict[str, Any]]
# Histogram bin edges in seconds: under a minute, 5, 15 and 30 minutes, 1, 4, 8 hours, a day.
BIN_EDGES: tuple[int, ...] = (60, 300, 900, 1800, 3600, 14400, 28800, 86400)
UNANSWERED_TOP = 20


@dataclass(frozen=True, slots=True)
class ReportFilter:
    """Which rows count: a channel (None: all) and an agent (None: everyone)."""

    channel: str | None = None
    agent: str | None = None

    def rows(self, bucket: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            row
            for row in bucket["rows"]
            if (self.channel is None or row["channel"] == self.channel)
            and (self.agent is None or row["agent"] == self.agent)
        ]


def percentile(values: Sequence[int], share: float) -> int | None:
    """Nearest-rank percentile (``share`` in 0..1); None for no values."""
    return _rank(sorted(values), share)


def _rank(ordered: Sequence[int], share: float) -> int | None:
    if not ordered:
        return None
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _timing(values: Sequence[int]) -> dict[str, Any]:
    ordered = sorted(values)  # once for both figures: a month of a busy inbox is many values
    return {
        "count": len(ordered),
        "median_seconds": _rank(ordered, 0.5),
        "p90_seconds": _rank(ordered, 0.9),
    }


def _bin_label(lower: int, upper: int | None) -> str:
    def short(seconds: int) -> str:
        if seconds >= 3600:
            return f"{seconds // 3600}h"
        return f"{seconds // 60}m" if seconds >= 60 else f"{seconds}s"

    return f"{short(lower)}–{short(upper)}" if upper is not None else f"≥{short(lower)}"


def histogram(kind: str, values: Iterable[int]) -> Table:
    edges = (0, *BIN_EDGES)
    ordered = sorted(values)
    # A bin holds the values from its edge up to the next one: positions in the sorted list.
    starts = [0, *(bisect.bisect_left(ordered, edge) for edge in BIN_EDGES), len(ordered)]
    counts = [starts[i + 1] - starts[i] for i in range(len(edges))]
    table = []
    for i, lower in enumerate(edges):
        upper = edges[i + 1] if i + 1 < len(edges) else None
        table.append(
            {
                "kind": kind,
                "bin": _bin_label(lower, upper),
                "lower_seconds": lower,
                "upper_seconds": upper,
                "count": counts[i],
            }
        )
    return table


def conversations(buckets: list[dict[str, Any]], where: ReportFilter) -> dict[str, Table]:
    days: Table = []
    for bucket in buckets:
        per_channel: dict[str, dict[str, int]] = {}
        for row in where.rows(bucket):
            counts = per_channel.setdefault(row["channel"], {"new": 0, "reopened": 0})
            counts["new"] += row["new"]
            counts["reopened"] += row["reopened"]
        for channel in sorted(per_channel):
            days.append({"day": bucket["_id"], "channel": channel, **per_channel[channel]})
    return {"days": days}


def response_times(buckets: list[dict[str, Any]], where: ReportFilter) -> dict[str, Table]:
    days: Table = []
    all_frt: list[int] = []
    all_res: list[int] = []
    for bucket in buckets:
        rows = where.rows(bucket)
        frt = [s for row in rows for s in row["frt"]]
        res = [s for row in rows for s in row["res"]]
        all_frt += frt
        all_res += res
        first, resolution = _timing(frt), _timing(res)
        days.append(
            {
                "day": bucket["_id"],
                "first_response_count": first["count"],
                "first_response_median_seconds": first["median_seconds"],
                "first_response_p90_seconds": first["p90_seconds"],
                "resolution_count": resolution["count"],
                "resolution_median_seconds": resolution["median_seconds"],
                "resolution_p90_seconds": resolution["p90_seconds"],
            }
        )
    bins = histogram("first_response", all_frt) + histogram("resolution", all_res)
    return {"days": days, "histogram": bins}


def bot(buckets: list[dict[str, Any]], where: ReportFilter) -> dict[str, Table]:
    days: Table = []
    reasons: Counter[str] = Counter()
    unanswered: Counter[str] = Counter()
    failures: Table = []
    for bucket in buckets:
        rows = where.rows(bucket)
        failed = Counter[str]()
        for failure in bucket.get("webhook_failures", []):
            if where.channel is None or failure["channel"] == where.channel:
                failed[failure["kind"]] += failure["count"]
        resolved = sum(row["resolved"] for row in rows)
        contained = sum(row["contained"] for row in rows)
        handoffs = Counter[str]()
        for row in rows:
            handoffs.update(row["handoffs"])
        reasons.update(handoffs)
        days.append(
            {
                "day": bucket["_id"],
                "resolved": resolved,
                "contained": contained,
                "containment_rate": round(contained / resolved, 4) if resolved else None,
                "handoffs": sum(handoffs.values()),
                "webhook_failures": sum(failed.values()),
            }
        )
        failures += [
            {"day": bucket["_id"], "kind": kind, "count": n} for kind, n in sorted(failed.items())
        ]
        for miss in bucket["unanswered"]:
            if where.channel is None or miss["channel"] == where.channel:
                unanswered[miss["text"]] += miss["count"]
    return {
        "days": days,
        "handoff_reasons": [{"reason": r, "count": n} for r, n in sorted(reasons.items())],
        "unanswered": [
            {"question": text, "count": n} for text, n in unanswered.most_common(UNANSWERED_TOP)
        ],
        "webhook_failures": failures,
    }


def _average(scores: Sequence[int]) -> float | None:
    total = sum(scores)
    if not total:
        return None
    return round(sum((i + 1) * n for i, n in enumerate(scores)) / total, 3)


def _add(into: list[int], scores: Sequence[int]) -> None:
    for i, n in enumerate(scores):
        into[i] += n


def ratings(buckets: list[dict[str, Any]], where: ReportFilter) -> dict[str, Table]:
    overall = [0] * 5
    per_agent: dict[str, list[int]] = {}
    days: Table = []
    for bucket in buckets:
        day = [0] * 5
        for row in where.rows(bucket):
            _add(day, row["ratings"])
            if any(row["ratings"]):
                _add(per_agent.setdefault(row["agent"] or "", [0] * 5), row["ratings"])
        _add(overall, day)
        days.append({"day": bucket["_id"], "count": sum(day), "average": _average(day)})
    agents = [
        {"agent": agent or None, "count": sum(scores), "average": _average(scores)}
        for agent, scores in sorted(per_agent.items())
    ]
    distribution = [{"score": i + 1, "count": n} for i, n in enumerate(overall)]
    return {"distribution": distribution, "days": days, "agents": agents}


def agents(
    buckets: list[dict[str, Any]],
    where: ReportFilter,
    names: dict[str, str],
    loads: dict[str, int],
) -> dict[str, Table]:
    """One row per agent who held a conversation in the range (or is in ``names``)."""
    frt: dict[str, list[int]] = {agent: [] for agent in names}
    res: dict[str, list[int]] = {agent: [] for agent in names}
    handled: Counter[str] = Counter()
    scores: dict[str, list[int]] = {}
    for bucket in buckets:
        for row in where.rows(bucket):
            agent = row["agent"]
            if agent is None:
                continue
            frt.setdefault(agent, []).extend(row["frt"])
            res.setdefault(agent, []).extend(row["res"])
            handled[agent] += row["resolved"]
            _add(scores.setdefault(agent, [0] * 5), row["ratings"])
    table = [
        {
            "agent": agent,
            "name": names.get(agent, ""),
            "handled": handled[agent],
            "median_first_response_seconds": percentile(frt[agent], 0.5),
            "median_resolution_seconds": percentile(res.get(agent, []), 0.5),
            "rating": _average(scores.get(agent, [0] * 5)),
            "load": loads.get(agent, 0),
        }
        for agent in sorted(frt)
        if where.agent is None or agent == where.agent
    ]
    return {"agents": table}


def moderation(
    buckets: list[dict[str, Any]],
    where: ReportFilter,
    held: Sequence[dict[str, Any]],
    now: datetime,
) -> dict[str, Table]:
    """Verdicts per day and by stage and reason, and the age of what still waits: ``held``
    are the range's comments that wait for a moderator (their channel, when they came)."""
    days: Table = []
    reasons: Counter[tuple[str, str, str]] = Counter()
    for bucket in buckets:
        statuses: Counter[str] = Counter()
        for row in bucket["moderation"]:
            if where.channel is not None and row.get("channel") != where.channel:
                continue
            statuses[row["status"]] += row["count"]
            reasons[(row["status"], row["stage"], row["reason"])] += row["count"]
        days.append(
            {
                "day": bucket["_id"],
                "approved": statuses["approved"],
                "held": statuses["held"],
                "rejected": statuses["rejected"],
            }
        )
    by_reason = [
        {"status": status, "stage": stage, "reason": reason, "count": n}
        for (status, stage, reason), n in sorted(reasons.items())
    ]
    ages = [
        max(0, round((now - item["created_at"]).total_seconds()))
        for item in held
        if where.channel is None or item["channel"] == where.channel
    ]
    queue = {
        "pending": len(ages),
        "oldest_age_seconds": max(ages, default=None),
        "median_age_seconds": percentile(ages, 0.5),
    }
    return {"days": days, "by_reason": by_reason, "queue": [queue]}
