"""The background loop every long-running job shares: prompt stop, backoff, one log line."""

from __future__ import annotations

import asyncio
import itertools
import logging

import pytest

from hub.runtime.background import BackgroundLoop, LoopDone


async def test_stop_ends_a_long_wait_at_once() -> None:
    ticks = 0
    ticked = asyncio.Event()

    async def tick() -> float:
        nonlocal ticks
        ticks += 1
        ticked.set()
        return 3600.0

    loop = BackgroundLoop("test-wait", tick, interval=3600)
    loop.start()
    loop.start()  # idempotent: still one task
    await ticked.wait()
    async with asyncio.timeout(1):
        await loop.stop(grace=10)
    assert not loop.running
    assert ticks == 1


async def test_stop_cancels_a_tick_that_overruns_its_grace() -> None:
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def tick() -> None:
        started.set()
        try:
            await asyncio.Event().wait()  # a pass that never ends by itself
        except asyncio.CancelledError:
            cancelled.set()
            raise

    loop = BackgroundLoop("test-hang", tick, interval=1)
    loop.start()
    await started.wait()
    async with asyncio.timeout(1):
        await loop.stop(grace=0.01)
    assert cancelled.is_set()
    assert not loop.running


async def test_stop_lets_the_tick_under_way_finish_within_the_grace() -> None:
    started, release, finished = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def tick() -> None:
        started.set()
        await release.wait()
        finished.set()

    loop = BackgroundLoop("test-grace", tick, interval=1)
    loop.start()
    await started.wait()
    stopping = asyncio.create_task(loop.stop(grace=5))
    await asyncio.sleep(0)
    release.set()
    await stopping
    assert finished.is_set()


async def test_a_failing_tick_backs_off_logs_once_and_logs_its_recovery(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = asyncio.get_running_loop().time
    calls: list[float] = []
    enough = asyncio.Event()
    told: list[float] = []

    async def tick() -> float:
        calls.append(clock())
        if len(calls) < 6:
            raise ConnectionError("database unreachable")
        enough.set()
        return 3600.0

    loop = BackgroundLoop(
        "test-failing",
        tick,
        interval=3600,
        first_retry=0.01,
        max_retry=0.04,
        expected=(ConnectionError,),
        on_failure=lambda exc, delay: told.append(delay),
    )
    caplog.set_level(logging.DEBUG, logger="hub.runtime.background")
    loop.start()
    async with asyncio.timeout(5):
        await enough.wait()
    await loop.stop()
    gaps = [b - a for a, b in itertools.pairwise(calls)]
    # Doubling from the first retry up to the cap: never a busy loop.
    assert told == [0.01, 0.02, 0.04, 0.04, 0.04]
    for gap, delay in zip(gaps, told, strict=True):
        assert gap >= delay * 0.9
    records = [r for r in caplog.records if r.name == "hub.runtime.background"]
    loud = [r for r in records if r.levelno >= logging.WARNING]
    assert [r.getMessage() for r in loud] == ["test-failing failed; retrying with backoff"]
    assert loud[0].levelno == logging.WARNING and loud[0].exc_info is None  # expected: no trace
    assert sum(r.levelno == logging.DEBUG for r in records) == 4
    assert [r.getMessage() for r in records if r.levelno == logging.INFO] == [
        "test-failing recovered"
    ]
    assert loop.failures == 0


async def test_an_unexpected_failure_is_logged_with_its_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    failed = asyncio.Event()

    async def tick() -> None:
        failed.set()
        raise KeyError("bug")

    loop = BackgroundLoop("test-bug", tick, interval=3600)
    loop.start()
    await failed.wait()
    await loop.stop()
    (record,) = [r for r in caplog.records if r.name == "hub.runtime.background"]
    assert record.levelno == logging.ERROR and record.exc_info is not None


async def test_wake_runs_the_next_tick_now() -> None:
    ticked = asyncio.Queue[int]()

    async def tick() -> float:
        ticked.put_nowait(1)
        return 3600.0

    loop = BackgroundLoop("test-wake", tick, interval=3600)
    loop.start()
    await ticked.get()
    loop.wake()
    async with asyncio.timeout(1):
        await ticked.get()
    await loop.stop()


async def test_a_tick_ends_its_loop_with_loop_done() -> None:
    async def tick() -> None:
        raise LoopDone

    loop = BackgroundLoop("test-done", tick, interval=1)
    loop.start()
    task = next(t for t in asyncio.all_tasks() if t.get_name() == "test-done")
    await task
    assert not loop.running
    await loop.stop()


def test_a_loop_without_a_positive_interval_is_refused() -> None:
    with pytest.raises(ValueError, match="positive interval"):
        BackgroundLoop("test-zero", lambda: asyncio.sleep(0), interval=0)
