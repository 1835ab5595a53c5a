"""Whether it is within business hours: a pure function of the settings and a time."""

from __future__ import annotations

from datetime import datetime, time
from typing import Protocol
from zoneinfo import ZoneInfo


class Hours(Protocol):
    timezone: str
    days: list[int]
    open: str
    close: str


def within_hours(hours: Hours | None, now: datetime) -> bool:
    """True when ``now`` falls on an open day between opening and closing (no hours: always);
    the timezone was checked when the config was loaded."""
    if hours is None:
        return True
    local = now.astimezone(ZoneInfo(hours.timezone))
    opens, closes = time.fromisoformat(hours.open), time.fromisoformat(hours.close)
    return local.weekday() in hours.days and opens <= local.time() < closes
