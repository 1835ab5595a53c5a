"""What the doctor and the CLI ask a database before trusting it: does it answer, what is
it (replica set, clock), and are the hub's indexes there."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.errors import ConfigurationError, OperationFailure

from storage.errors import StorageBoundary, storage_errors
from storage.indexes import INDEXES


@dataclass(frozen=True, slots=True)
class ServerHello:
    """The server's ``hello`` answer, timed from our side."""

    set_name: str | None
    hosts: int
    local_time: datetime | None
    sent: float
    received: float


@dataclass(frozen=True, slots=True)
class IndexCheck:
    """Index names (``collection.name``) the table lists that the database lacks."""

    missing: list[str]
    total: int


class DatabaseProbe(StorageBoundary):
    """A short-lived client for checks; ``StorageMisconfigured`` when the URI is unusable."""

    def __init__(self, uri: str, database: str, timeout_seconds: float) -> None:
        with storage_errors():
            try:
                self.client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
                    uri,
                    tz_aware=True,
                    serverSelectionTimeoutMS=int(timeout_seconds * 1000),
                    connectTimeoutMS=int(timeout_seconds * 1000),
                )
            except (ValueError, TypeError) as exc:  # options the driver itself refuses
                raise ConfigurationError(str(exc)) from exc
        self.database = database

    async def hello(self) -> ServerHello:
        sent = time.time()
        answer = await self.client.admin.command("hello")
        received = time.time()
        local_time = answer.get("localTime")
        return ServerHello(
            set_name=answer.get("setName") or None,
            hosts=len(answer.get("hosts", [])),
            local_time=local_time if isinstance(local_time, datetime) else None,
            sent=sent,
            received=received,
        )

    async def indexes(self) -> IndexCheck:
        db = self.client[self.database]
        missing: list[str] = []
        total = 0
        for collection, wanted in INDEXES.items():
            names = {index.document["name"] for index in wanted}
            total += len(names)
            try:
                cursor = await db[collection].list_indexes()
                present = {index["name"] async for index in cursor}
            except OperationFailure:
                present = set()  # the collection does not exist yet
            missing.extend(f"{collection}.{name}" for name in sorted(names - present))
        return IndexCheck(missing, total)

    async def close(self) -> None:
        await self.client.close()
