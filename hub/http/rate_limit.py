"""A token bucket per client address, for the public endpoints that need no token.

In memory and per process: with several hub instances each allows its own budget, so
put a shared limiter (at the load balancer) in front when that matters.
"""

from __future__ import annotations

import time
from collections import OrderedDict

from aiohttp import web


def client_address(request: web.Request, trust_forwarded_for: bool) -> str:
    """Who is asking: the peer, or X-Forwarded-For's first hop behind a trusted proxy."""
    if trust_forwarded_for:
        forwarded = request.headers.get("X-Forwarded-For", "").split(",")[0].strip()
        if forwarded:
            return forwarded
    return request.remote or "unknown"


class AddressBuckets:
    """``capacity`` requests at once per address, refilled at ``refill_per_second``."""

    def __init__(self, capacity: int, refill_per_second: float, max_addresses: int) -> None:
        self.capacity = capacity
        self.refill = refill_per_second
        self.max_addresses = max_addresses
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, address: str, now: float | None = None) -> float:
        """Spend one token; return 0 when allowed, else the seconds until one is available."""
        now = time.monotonic() if now is None else now
        tokens, at = self._buckets.pop(address, (float(self.capacity), now))
        tokens = min(float(self.capacity), tokens + (now - at) * self.refill)
        if tokens >= 1:
            self._remember(address, tokens - 1, now)
            return 0.0
        self._remember(address, tokens, now)
        return (1 - tokens) / self.refill

    def _remember(self, address: str, tokens: float, now: float) -> None:
        self._buckets[address] = (tokens, now)
        while len(self._buckets) > self.max_addresses:
            self._buckets.popitem(last=False)  # the least recently seen address
