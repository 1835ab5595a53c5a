"""Named leases in MongoDB, so one hub instance at a time runs each scheduled job.

``acquire`` takes a lease that is free, expired or already ours (renewing it); a crashed
holder's lease simply expires after its ``ttl``. Times are the server's clock
(``$$NOW``), so instances with skewed clocks still agree.
"""

from __future__ import annotations

from pymongo.errors import DuplicateKeyError

from storage.mongo import MongoStore

COLLECTION = "leases"


class LeaseStore:
    def __init__(self, mongo: MongoStore) -> None:
        self.leases = mongo.collection(COLLECTION)

    async def acquire(self, name: str, owner: str, ttl: float) -> bool:
        """Take or renew ``name`` for ``owner`` for ``ttl`` seconds; False if another holds it."""
        millis = int(ttl * 1000)
        until = {"$dateAdd": {"startDate": "$$NOW", "unit": "millisecond", "amount": millis}}
        try:
            result = await self.leases.update_one(
                {
                    "_id": name,
                    "$or": [{"owner": owner}, {"$expr": {"$lte": ["$until", "$$NOW"]}}],
                },
                [{"$set": {"owner": owner, "until": until, "acquired_at": "$$NOW"}}],
                upsert=True,
            )
        except DuplicateKeyError:
            return False  # held by someone else and not expired: the upsert hit its _id
        return result.matched_count == 1 or result.upserted_id is not None

    async def release(self, name: str, owner: str) -> bool:
        """Give the lease up if ``owner`` holds it."""
        result = await self.leases.delete_one({"_id": name, "owner": owner})
        return result.deleted_count == 1
