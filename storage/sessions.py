"""Refresh-token sessions: stored hashed, rotated on use, revoked by family on reuse.

Each login starts a *family*; every refresh swaps the presented token for a new one in
the same family. A token presented a second time means it leaked (or a client raced
itself), so the whole family is revoked and the agent must log in again. Records carry
``expires_at`` under a TTL index, so spent and revoked tokens leave by themselves.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from hub.domain import utcnow
from storage.errors import StorageBoundary
from storage.mongo import MongoStore


class RefreshRejected(Exception):
    """The refresh token is unknown, expired or revoked (``reused`` when replayed)."""

    def __init__(self, reused: bool = False, family: str | None = None) -> None:
        super().__init__("refresh token reused" if reused else "refresh token not valid")
        self.reused = reused
        self.family = family  # the session revoked because of the reuse


@dataclass(frozen=True, slots=True)
class IssuedRefresh:
    token: str
    agent_id: str
    family: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SessionStore(StorageBoundary):
    """The ``refresh_tokens`` collection; only token digests are ever stored."""

    def __init__(self, mongo: MongoStore, ttl_seconds: int) -> None:
        self.tokens = mongo.collection("refresh_tokens")
        self.ttl = timedelta(seconds=ttl_seconds)

    async def start(self, agent_id: str) -> IssuedRefresh:
        """A new session (family) for an agent who just proved their password."""
        return await self._issue(agent_id, uuid.uuid4().hex)

    async def rotate(self, token: str) -> IssuedRefresh:
        """Spend ``token`` and return its successor, or raise ``RefreshRejected``."""
        now = utcnow()
        spent = await self.tokens.find_one_and_update(
            {
                "_id": _digest(token),
                "rotated_at": None,
                "revoked": False,
                "expires_at": {"$gt": now},
            },
            {"$set": {"rotated_at": now}},
        )
        if spent is not None:
            return await self._issue(spent["agent_id"], spent["family"])
        known = await self.tokens.find_one({"_id": _digest(token)})
        if known is not None and known.get("rotated_at") is not None:
            await self.revoke_family(known["family"])
            raise RefreshRejected(reused=True, family=known["family"])
        raise RefreshRejected()

    async def revoke(self, token: str) -> str | None:
        """Log out: end the session the token belongs to and return it (None if unknown)."""
        known = await self.tokens.find_one({"_id": _digest(token)})
        if known is None:
            return None
        await self.revoke_family(known["family"])
        family: str = known["family"]
        return family

    async def revoke_family(self, family: str) -> None:
        await self.tokens.update_many({"family": family}, {"$set": {"revoked": True}})

    async def revoke_agent(self, agent_id: str) -> None:
        """End every session of an agent (who was just disabled)."""
        await self.tokens.update_many({"agent_id": agent_id}, {"$set": {"revoked": True}})

    async def is_live(self, family: str) -> bool:
        """Whether the session still has an unrevoked, unexpired refresh token."""
        found = await self.tokens.find_one(
            {"family": family, "revoked": False, "expires_at": {"$gt": utcnow()}}, {"_id": 1}
        )
        return found is not None

    async def _issue(self, agent_id: str, family: str) -> IssuedRefresh:
        token = secrets.token_urlsafe(32)
        now = utcnow()
        await self.tokens.insert_one(
            {
                "_id": _digest(token),
                "family": family,
                "agent_id": agent_id,
                "created_at": now,
                "expires_at": now + self.ttl,
                "rotated_at": None,
                "revoked": False,
            }
        )
        return IssuedRefresh(token, agent_id, family)
