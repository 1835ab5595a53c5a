"""Leases in MongoDB: one holder at a time for a named job, across hub instances.

A lease is a document ``{_id: name, owner, expires_at}``. Taking it succeeds when it is
free, expired or already ours; the holder renews it well before it expires, so a crashed
holder's lease lapses and another instance takes over.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from hub.domain import utcnow
from storage.errors import StorageBoundary
from storage.mongo import MongoStore


class LeaseUnavailable(Exception):
    """Another owner holds the lease."""


class LeaseStore(StorageBoundary):
    def __init__(self, mongo: MongoStore) -> None:
        self.leases = mongo.collection("leases")

    async def acquire(self, name: str, owner: str, ttl_seconds: float) -> bool:
        """Take or renew the lease; False when another owner holds an unexpired one."""
        now = utcnow()
        try:
            doc = await self.leases.find_one_and_update(
                {"_id": name, "$or": [{"owner": owner}, {"expires_at": {"$lt": now}}]},
                {"$set": {"owner": owner, "expires_at": now + timedelta(seconds=ttl_seconds)}},
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
        except DuplicateKeyError:  # the lease exists and is someone else's
            return False
        return doc is not None and doc["owner"] == owner

    async def release(self, name: str, owner: str) -> bool:
        """Give the lease up; False when ``owner`` did not hold it."""
        result = await self.leases.delete_one({"_id": name, "owner": owner})
        return result.deleted_count == 1

    async def owner(self, name: str) -> str | None:
        doc = await self.leases.find_one({"_id": name, "expires_at": {"$gte": utcnow()}})
        return str(doc["owner"]) if doc else None

    @contextlib.asynccontextmanager
    async def hold(self, name: str, owner: str, ttl_seconds: float = 60.0) -> AsyncIterator[None]:
        """Hold the lease for the block, renewing it in the background; raise if taken."""
        if not await self.acquire(name, owner, ttl_seconds):
            raise LeaseUnavailable(f"lease {name!r} is held by another owner")

        async def renew() -> None:
            while True:
                await asyncio.sleep(ttl_seconds / 3)
                await self.acquire(name, owner, ttl_seconds)

        renewer = asyncio.create_task(renew())
        try:
            yield
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer
            await self.release(name, owner)
