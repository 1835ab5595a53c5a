"""Service accounts' API tokens, kept only as SHA-256 hashes.

The secret is shown once, at creation; afterwards the hub can recognise it but never
show it again. Revocation deletes nothing: it stamps ``revoked_at``, and lookups skip
revoked tokens, so revoking takes effect on the very next request.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime
from typing import Any

from hub.domain import utcnow
from storage.errors import StorageBoundary
from storage.mongo import Document, MongoStore

PREFIX = "chs_"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def public_view(doc: Document) -> dict[str, Any]:
    """A token's record without its hash, dates as ISO strings."""
    out: dict[str, Any] = {"id": doc["_id"]}
    for key in ("name", "role", "scopes", "created_by", "created_at", "revoked_at"):
        value = doc.get(key)
        out[key] = value.isoformat() if isinstance(value, datetime) else value
    return out


class ServiceTokenStore(StorageBoundary):
    def __init__(self, mongo: MongoStore) -> None:
        self.tokens = mongo.collection("service_tokens")

    async def create(
        self, name: str, role: str, scopes: list[str], created_by: str
    ) -> tuple[str, Document]:
        """A new token: the secret (returned once) and its stored record."""
        secret = PREFIX + secrets.token_urlsafe(32)
        doc: Document = {
            "_id": uuid.uuid4().hex,
            "hash": token_hash(secret),
            "name": name,
            "role": role,
            "scopes": sorted(set(scopes)),
            "created_by": created_by,
            "created_at": utcnow(),
            "revoked_at": None,
        }
        await self.tokens.insert_one(doc)
        return secret, doc

    async def find_active(self, secret: str) -> Document | None:
        return await self.tokens.find_one({"hash": token_hash(secret), "revoked_at": None})

    async def revoke(self, token_id: str) -> bool:
        result = await self.tokens.update_one(
            {"_id": token_id, "revoked_at": None}, {"$set": {"revoked_at": utcnow()}}
        )
        return result.matched_count == 1

    async def list(self, limit: int) -> list[Document]:
        return await self.tokens.find({}).sort("created_at", -1).limit(limit).to_list()
