"""One background loop: start, stop, wake, and a tick repeated with backoff on failure.

Every long-running job of the hub (the outbox sender, the routing check, the archive
schedule, the reply fan-out, the channel pollers, an agent socket's session check) is a
``BackgroundLoop`` around its own ``tick``. The tick does one pass and returns how long
to wait before the next one (``None``: the loop's interval). A tick that raises is
logged once per run of failures and retried after an exponential backoff, so a database
outage neither ends the job nor floods the log nor spins the loop; the first tick that
succeeds again logs the recovery. ``wake`` cuts the current wait short; ``stop`` lets the
tick under way finish (up to a grace period) and then cancels it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

Tick = Callable[[], Awaitable[float | None]]
# Told of each failure and the seconds until the retry (to show it in a status, say).
FailureHook = Callable[[Exception, float], None]


class LoopDone(Exception):
    """Raised by a tick to end its loop for good; not a failure."""


class BackgroundLoop:
    """A named task running ``tick`` until stopped; see the module docstring."""

    def __init__(
        self,
        name: str,
        tick: Tick,
        *,
        interval: float,
        first_retry: float | None = None,
        max_retry: float | None = None,
        expected: tuple[type[Exception], ...] = (),
        on_failure: FailureHook | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        """``expected`` failures (an unreachable database) log a warning without a stack
        trace; any other exception is logged with its traceback."""
        first = interval if first_retry is None else first_retry
        if interval <= 0 or first <= 0:
            raise ValueError("a background loop needs a positive interval and first retry")
        self.name = name
        self.interval = interval
        self.first_retry = first
        self.max_retry = max(first, interval, 60.0) if max_retry is None else max_retry
        self.expected = expected
        self.on_failure = on_failure
        self.log = logger or log
        self.failures = 0  # consecutive failed ticks
        self._tick = tick
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start the task (a no-op when it runs already)."""
        if self.running:
            return
        self._stopping = False
        self._task = asyncio.get_running_loop().create_task(self._run(), name=self.name)

    def wake(self) -> None:
        """Run the next tick now instead of at the end of the current wait."""
        self._wake.set()

    async def stop(self, grace: float | None = 0.0) -> None:
        """Stop: the tick under way may finish within ``grace`` seconds (``None``: as
        long as it takes), then the task is cancelled. Waiting between ticks ends at once."""
        self._stopping = True
        self._wake.set()
        task, self._task = self._task, None
        if task is None or task is asyncio.current_task():
            return
        if grace is None or grace > 0:
            await asyncio.wait({task}, timeout=grace)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    def retry_delay(self, failures: int) -> float:
        """The wait after the ``failures``-th failure in a row: doubling, capped."""
        return float(min(self.max_retry, self.first_retry * 2.0 ** min(failures - 1, 32)))

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                delay = await self._tick()
            except LoopDone:
                return
            except Exception as exc:
                delay = self._failed(exc)
            else:
                self._recovered()
            await self._wait(self.interval if delay is None else max(delay, 0.0))

    def _failed(self, exc: Exception) -> float:
        self.failures += 1
        delay = self.retry_delay(self.failures)
        if self.on_failure is not None:
            self.on_failure(exc, delay)
        extra = {"loop": self.name, "error": f"{type(exc).__name__}: {exc}"[:300], "retry": delay}
        if self.failures > 1:
            self.log.debug("%s failed again", self.name, extra=extra)
        elif isinstance(exc, self.expected):
            self.log.warning("%s failed; retrying with backoff", self.name, extra=extra)
        else:
            self.log.exception("%s failed; retrying with backoff", self.name, extra=extra)
        return delay

    def _recovered(self) -> None:
        if self.failures:
            self.log.info(
                "%s recovered", self.name, extra={"loop": self.name, "failures": self.failures}
            )
        self.failures = 0

    async def _wait(self, delay: float) -> None:
        if self._wake.is_set() or self._stopping:
            await asyncio.sleep(0)  # woken during the tick: go again, but let others run
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(delay):
                await self._wake.wait()
