"""Named leases in MongoDB, so one hub instance at a time runs each scheduled job.

``acquire`` takes a lease that is free, expired or already ours (renewing it); a crashed
holder's lease simply expires after its ``ttl``. Like the outbox's send leases, expiry
uses the instances' clocks, which are expected to be NTP-synchronized; keep ``ttl`` well
above any plausible skew.
"""

from __future__ import annotations

from datetime import timedelta

from pymongo.errors import DuplicateKeyError

from hub.domain import utcnow
from storage.mongo import MongoStore

COLLECTION = "leases"


class LeaseStore:
    def __init__(self, mongo: MongoStore) -> None:
        self.leases = mongo.collection(COLLECTION)

    async def acquire(self, name: str, owner: str, ttl: float) -> bool:
        """Take or renew ``name`` for ``owner`` for ``ttl`` seconds; False if another holds it."""
        now = utcnow()
        try:
            await self.leases.update_one(
                {"_id": name, "$or": [{"owner": owner}, {"until": {"$lte": now}}]},
                {
                    "$set": {
                        "owner": owner,
                        "until": now + timedelta(seconds=ttl),
                        "renewed_at": now,
                    }
                },
                upsert=True,
            )
        except DuplicateKeyError:
            return False  # another owner holds an unexpired lease: the upsert hit its _id
        return True

    async def release(self, name: str, owner: str) -> bool:
        """Give the lease up if ``owner`` holds it."""
        result = await self.leases.delete_one({"_id": name, "owner": owner})
        return result.deleted_count == 1
