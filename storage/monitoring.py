"""Command monitoring: the driver's listener events, handed on without the driver's types.

The hub times and logs storage commands (``hub.runtime.metrics``) through a
:class:`CommandObserver`; only this module knows pymongo's monitoring interface.
"""

from __future__ import annotations

from typing import Protocol

from pymongo import monitoring

# Handshake and monitoring commands say nothing about the hub's own storage latency.
_IGNORED_COMMANDS = frozenset({"hello", "ismaster", "isMaster", "saslStart", "saslContinue"})

_Finished = monitoring.CommandSucceededEvent | monitoring.CommandFailedEvent


class CommandObserver(Protocol):
    """Told of every database command the client runs (handshakes left out)."""

    def command_started(self, command: str, collection: str | None) -> None: ...

    def command_finished(self, command: str, seconds: float, *, failed: bool) -> None: ...


class CommandTimer(monitoring.CommandListener):
    """A pymongo command listener reporting to a :class:`CommandObserver`."""

    def __init__(self, observer: CommandObserver) -> None:
        self.observer = observer

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name in _IGNORED_COMMANDS:
            return
        collection = event.command.get(event.command_name)
        self.observer.command_started(
            event.command_name, collection if isinstance(collection, str) else None
        )

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        self._finished(event, failed=False)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        self._finished(event, failed=True)

    def _finished(
        self,
        event: monitoring.CommandSucceededEvent | monitoring.CommandFailedEvent,
        *,
        failed: bool,
    ) -> None:
        if event.command_name in _IGNORED_COMMANDS:
            return
        seconds = event.duration_micros / 1_000_000
        self.observer.command_finished(event.command_name, seconds, failed=failed)
