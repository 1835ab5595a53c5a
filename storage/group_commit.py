"""Group commit for writes other than inbound messages (replies, delivery outcomes).

Callers submit one item each and wait; a single writer task writes whatever queued while
the previous write was in flight, in one command. A lone item waits for nobody; under load
round trips are shared. Each caller is answered only after the write holding its item
returned, so "answered" still means "durable under the configured write concern".
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from storage.errors import StorageBoundary

Item = TypeVar("Item")
Result = TypeVar("Result")


class GroupCommit(StorageBoundary, Generic[Item, Result]):
    """Writes submitted items in shared batches of at most ``max_batch`` with ``write``.

    ``write`` gets the batch and returns one result per item, in order; if it raises,
    every caller of that batch gets the exception (none is told its item was stored), a
    driver error as the hub's own, like every store's.
    """

    def __init__(
        self,
        write: Callable[[Sequence[Item]], Awaitable[Sequence[Result]]],
        *,
        max_batch: int = 256,
        name: str = "group-commit",
    ) -> None:
        self._write = write
        self.max_batch = max_batch
        self.name = name
        self._queue: list[tuple[Item, asyncio.Future[Result]]] = []
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.batches = 0
        self.items = 0

    async def submit(self, item: Item) -> Result:
        """Queue ``item`` and return its result once the batch holding it is written."""
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._run(), name=self.name)
        future: asyncio.Future[Result] = loop.create_future()
        self._queue.append((item, future))
        self._wakeup.set()
        return await future

    async def close(self) -> None:
        """Stop the writer; callers still queued learn that nothing was written."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for _, future in self._queue:
            if not future.done():
                future.set_exception(RuntimeError("the hub is stopping"))
        self._queue.clear()

    async def _run(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._queue:
                batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
                try:
                    results = await self._write([item for item, _ in batch])
                except Exception as exc:  # every waiter learns of the failure; none is acked
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                self.batches += 1
                self.items += len(batch)
                for (_, future), result in zip(batch, results, strict=True):
                    if not future.done():
                        future.set_result(result)
