"""Agents: the humans behind replies, and how platform users map to them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pymongo import ReturnDocument

from hub.domain import Agent, utcnow
from storage.errors import StorageBoundary
from storage.mongo import Document, MongoStore

# Agent documents may carry storage-only fields (a password hash, say) that never leave here.
_FIELDS = set(Agent.model_fields)


def agent_from_doc(doc: Document) -> Agent:
    return Agent.model_validate(
        {**{k: v for k, v in doc.items() if k in _FIELDS}, "id": doc["_id"]}
    )


class AgentStore(StorageBoundary):
    def __init__(self, mongo: MongoStore) -> None:
        self.agents = mongo.collection("agents")

    async def upsert(self, agent_id: str, fields: Mapping[str, Any]) -> Agent:
        doc = await self.agents.find_one_and_update(
            {"_id": agent_id},
            {"$set": dict(fields), "$setOnInsert": {"created_at": utcnow()}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        assert doc is not None
        return agent_from_doc(doc)

    async def get(self, agent_id: str) -> Agent | None:
        doc = await self.agents.find_one({"_id": agent_id})
        return agent_from_doc(doc) if doc else None

    async def find_by_channel_user(self, channel: str, user_id: str) -> Agent | None:
        """The agent a channel's user acts as (stored as ``<channel>_user_id``)."""
        doc = await self.agents.find_one({f"{channel}_user_id": user_id})
        return agent_from_doc(doc) if doc else None

    async def link_channel_user(self, agent_id: str, channel: str, user_id: str | None) -> Agent:
        """Set (or with None clear) the channel user the agent answers as."""
        return await self.upsert(agent_id, {f"{channel}_user_id": user_id})

    async def set_online(self, agent_id: str, online: bool) -> Agent:
        """Mark an agent (created on first sight) connected or gone."""
        return await self.upsert(agent_id, {"online": online})

    async def set_capacity(self, agent_id: str, capacity: int) -> Agent | None:
        return await self._set(agent_id, {"capacity": capacity})

    async def _set(self, agent_id: str, fields: Document) -> Agent | None:
        doc = await self.agents.find_one_and_update(
            {"_id": agent_id}, {"$set": fields}, return_document=ReturnDocument.AFTER
        )
        return agent_from_doc(doc) if doc else None

    async def set_disabled(self, agent_id: str, disabled: bool) -> Agent | None:
        return await self._set(agent_id, {"disabled": disabled})

    async def access_state(self, agent_id: str) -> Literal["active", "disabled", "unknown"]:
        """Whether tokens naming this agent may be honoured."""
        doc = await self.agents.find_one({"_id": agent_id}, {"disabled": 1})
        if doc is None:
            return "unknown"
        return "disabled" if doc.get("disabled") else "active"

    async def set_password_hash(self, agent_id: str, password_hash: str) -> None:
        """Store a login password's hash; it stays on the document, never in ``Agent``."""
        await self.agents.update_one({"_id": agent_id}, {"$set": {"password_hash": password_hash}})

    async def credentials(self, email: str) -> tuple[Agent, str | None] | None:
        """The agent with this email (case-insensitive) and their password hash, if any."""
        doc = await self.agents.find_one({"email": email.strip().lower()})
        return (agent_from_doc(doc), doc.get("password_hash")) if doc else None

    async def list(self) -> list[Agent]:
        return [agent_from_doc(doc) async for doc in self.agents.find({}).sort("_id", 1)]
