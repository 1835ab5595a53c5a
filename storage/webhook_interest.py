"""Whether some active webhook endpoint wants an event type, asked as a write is made.

A stored message owes ``message.created`` (storage/webhook_journal.py) only if some
endpoint subscribes to it: with none, the message is written once, not written again to
settle an event nobody wanted. Each insert batch asks the database first (one small query
for the whole batch), so a write made after an endpoint's creation (or its subscribing,
or re-activation) returned, on whichever instance, owes the endpoint's events. When the
question cannot be answered, the event is owed, as it always was.
"""

from __future__ import annotations

import logging

from pymongo.errors import PyMongoError

from storage.errors import StorageBoundary
from storage.mongo import MongoStore

log = logging.getLogger(__name__)


class WebhookInterest(StorageBoundary):
    """``wants(event_type)``: whether a write made now must owe that event."""

    def __init__(self, mongo: MongoStore) -> None:
        self.endpoints = mongo.collection("webhook_endpoints")

    async def wants(self, event_type: str) -> bool:
        try:
            found = await self.endpoints.find_one(
                {"active": True, "events": event_type}, {"_id": 1}
            )
        except PyMongoError as exc:
            log.warning("webhook interest unknown, owing the event: %s", type(exc).__name__)
            return True
        return found is not None
