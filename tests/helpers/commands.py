"""Counting the commands a hub sends, with pymongo command monitoring."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from pymongo import monitoring


class CommandLog(monitoring.CommandListener):
    """Commands sent to one database while recording (registered once for the run)."""

    def __init__(self) -> None:
        self.database: str | None = None
        self.commands: list[tuple[str, str, dict[str, Any]]] = []
        # Starts and ends in the order seen, to tell commands in flight together.
        self.timeline: list[tuple[str, str, str]] = []
        self._running: dict[int, tuple[str, str]] = {}

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if self.database is None or event.database_name != self.database:
            return
        name = event.command_name
        target = event.command.get(name)
        target = target if isinstance(target, str) else ""
        self.commands.append((name, target, event.command))
        self._running[event.request_id] = (name, target)
        self.timeline.append(("started", name, target))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        begun = self._running.pop(event.request_id, None)
        if begun is not None:
            self.timeline.append(("succeeded", *begun))

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass

    @contextlib.contextmanager
    def recording(self, database: str) -> Iterator[list[tuple[str, str, dict[str, Any]]]]:
        self.commands, self.database = [], database
        self.timeline, self._running = [], {}
        try:
            yield self.commands
        finally:
            self.database = None

    def reads_by_id(self, collection: str) -> int:
        return sum(
            1
            for name, target, command in self.commands
            if name == "find" and target == collection and "_id" in command.get("filter", {})
        )

    def count(self, name: str, collection: str) -> int:
        return sum(1 for n, t, _ in self.commands if n == name and t == collection)


COMMANDS = CommandLog()
monitoring.register(COMMANDS)  # clients made after this (every test's hub) report to it
