"""An agents' feed that records what it is handed, for tests of what feeds it."""

from __future__ import annotations

from hub.access.tokens import TokenService
from hub.config.model import ChorusConfig
from hub.runtime.events import InboxEvent
from hub.web.live import AgentFeed


class RecordingFeed(AgentFeed):
    def __init__(self, config: ChorusConfig) -> None:
        super().__init__(TokenService(config.auth))
        self.events: list[InboxEvent] = []
        self.closed: list[tuple[int, bytes]] = []

    async def on_event(self, event: InboxEvent) -> None:
        self.events.append(event)

    async def close_all(self, code: int = 1012, message: bytes = b"restarting") -> None:
        self.closed.append((code, message))

    def messages(self) -> list[str]:
        return [e.message.id for e in self.events if e.kind == "message" and e.message]
