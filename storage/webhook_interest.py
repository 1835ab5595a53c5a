"""Whether some active webhook endpoint wants an event type, asked as messages are stored.

A stored message owes ``message.created`` (storage/webhook_journal.py) only if some
endpoint subscribes to it: with none, the message is written once, not written again to
settle an event nobody wanted. The question is asked of the database after each insert
batch commits (one small query for the whole batch), and a "yes" then owes the event on
the batch's messages: so every message committed after an endpoint's creation, its
subscribing to the event or its re-activation committed, on whichever instance, owes it.
A "yes" is remembered for ``YES_SECONDS``: meanwhile inserts owe the event in the insert
itself and ask nothing (an endpoint gone meanwhile only means events settled unsent). When
the question cannot be answered, the event is owed, as it always was.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from pymongo.errors import PyMongoError

from storage.errors import StorageBoundary
from storage.mongo import MongoStore

log = logging.getLogger(__name__)

YES_SECONDS = 5.0


class WebhookInterest(StorageBoundary):
    """``wanted`` (recently answered yes, no question) and ``wants`` (asks the database)."""

    def __init__(self, mongo: MongoStore, clock: Callable[[], float] = time.monotonic) -> None:
        self.endpoints = mongo.collection("webhook_endpoints")
        self._clock = clock
        self._yes_until: dict[str, float] = {}

    def wanted(self, event_type: str) -> bool:
        """True while a recent answer for ``event_type`` was yes."""
        return self._clock() < self._yes_until.get(event_type, float("-inf"))

    async def wants(self, event_type: str) -> bool:
        try:
            found = await self.endpoints.find_one(
                {"active": True, "events": event_type}, {"_id": 1}
            )
        except PyMongoError as exc:
            log.warning("webhook interest unknown, owing the event: %s", type(exc).__name__)
            return True
        if found is not None:
            self._yes_until[event_type] = self._clock() + YES_SECONDS
        return found is not None
