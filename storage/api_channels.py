"""``api_channels``: the API inboxes admins create, with a hashed token and a signing secret."""

from __future__ import annotations

import hashlib
import secrets

from hub.domain import ApiChannel, new_id, utcnow
from storage.errors import StorageBoundary
from storage.mongo import Document, MongoStore

TOKEN_PREFIX = "cha_"  # noqa: S105 - a prefix, not a secret


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _channel(doc: Document) -> ApiChannel:
    return ApiChannel(
        id=doc["_id"],
        name=doc["name"],
        webhook_url=doc["webhook_url"],
        secret=doc["secret"],
        token_hash=doc["token_hash"],
        active=doc.get("active", True),
        created_at=doc["created_at"],
    )


class ApiChannelStore(StorageBoundary):
    def __init__(self, mongo: MongoStore) -> None:
        self.channels = mongo.collection("api_channels")

    async def create(self, name: str, webhook_url: str) -> tuple[ApiChannel, str]:
        """A new inbox and its token (returned once; only its hash is stored)."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        doc: Document = {
            "_id": new_id(),
            "name": name,
            "webhook_url": webhook_url,
            "secret": secrets.token_urlsafe(32),
            "token_hash": token_hash(token),
            "active": True,
            "created_at": utcnow(),
        }
        await self.channels.insert_one(doc)
        return _channel(doc), token

    async def get(self, channel_id: str) -> ApiChannel | None:
        doc = await self.channels.find_one({"_id": channel_id})
        return _channel(doc) if doc else None

    async def all(self, limit: int = 200) -> list[ApiChannel]:
        cursor = self.channels.find({}, sort=[("_id", 1)], limit=limit)
        return [_channel(doc) async for doc in cursor]
