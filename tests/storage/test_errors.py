"""Storage speaks the hub's errors: a driver exception is translated once, at every store."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest
from pymongo.errors import (
    AutoReconnect,
    ConfigurationError,
    DuplicateKeyError,
    OperationFailure,
    PyMongoError,
    ServerSelectionTimeoutError,
)

import storage
from hub.errors import (
    Conflict,
    DuplicateRecord,
    StorageError,
    StorageMisconfigured,
    StorageRefused,
    StorageUnavailable,
)
from storage.agents import AgentStore
from storage.embedded import EmbeddedMongo
from storage.errors import StorageBoundary, translate
from storage.filters import ConversationFilter
from storage.inbox import InboxStore
from storage.mongo import MongoStore, make_client


@pytest.mark.parametrize(
    ("driver", "hub_error", "code", "status"),
    [
        (DuplicateKeyError("E11000 dup key: { email: 'ada@example.com' }"), DuplicateRecord,
         "duplicate", 409),
        (ServerSelectionTimeoutError("localhost:1: connection refused"), StorageUnavailable,
         "storage_unavailable", 503),
        (AutoReconnect("connection reset"), StorageUnavailable, "storage_unavailable", 503),
        (OperationFailure("not primary", code=10107, details={
            "errorLabels": ["RetryableWriteError"]}), StorageUnavailable,
         "storage_unavailable", 503),
        (OperationFailure("Authentication failed.", code=18), StorageRefused,
         "storage_refused", 500),
        (ConfigurationError("bad uri"), StorageMisconfigured, "storage_misconfigured", 500),
        (PyMongoError("something else"), StorageError, "storage_error", 500),
    ],
)  # fmt: skip
def test_each_driver_error_has_one_hub_error(
    driver: PyMongoError, hub_error: type[StorageError], code: str, status: int
) -> None:
    error = translate(driver)
    assert type(error) is hub_error
    assert (error.code, error.status) == (code, status)
    assert error.__cause__ is driver  # operators' tools and logs still see the driver's words
    assert str(driver) not in error.message  # stored values never reach a client's answer


async def test_a_store_reports_a_stopped_database_as_storage_unavailable(
    tmp_path: Path, db_name: str
) -> None:
    database = EmbeddedMongo(tmp_path / "db")
    await database.astart()
    mongo = MongoStore(make_client(database.uri, server_selection_timeout_ms=300), db_name)
    store = InboxStore(mongo)
    try:
        assert await store.get_conversation("c1") is None
        await database.astop()  # the database goes away mid-run
        with pytest.raises(StorageUnavailable) as raised:
            await store.get_conversation("c1")
        assert isinstance(raised.value.__cause__, PyMongoError)
        with pytest.raises(StorageUnavailable):
            await store.list_conversations(ConversationFilter(status="open"), 10, None)
    finally:
        await mongo.close()
        await database.astop()


async def test_a_unique_index_refusal_is_a_duplicate_record(mongo_uri: str, db_name: str) -> None:
    mongo = MongoStore(make_client(mongo_uri), db_name)
    await mongo.ensure_indexes()
    agents = AgentStore(mongo)
    try:
        await agents.upsert("ada", {"slack_user_id": "U0ADA"})
        with pytest.raises(DuplicateRecord) as raised:
            await agents.upsert("bo", {"slack_user_id": "U0ADA"})
        assert isinstance(raised.value, Conflict)
        assert "U0ADA" not in raised.value.message
    finally:
        await mongo.client.drop_database(db_name)
        await mongo.close()


def _storage_classes() -> list[type]:
    found = []
    for info in pkgutil.iter_modules(storage.__path__):
        module = importlib.import_module(f"storage.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__:
                found.append(cls)
    return found


def test_every_store_that_awaits_the_database_is_behind_the_boundary() -> None:
    """A new store that forgets the base would leak driver errors: this names it."""
    # These talk to files or S3 (boto3), or run the server process, not the driver.
    # GroupCommit batches calls into stores that are behind it themselves.
    not_mongo = {
        "_ThreadedStore",
        "LocalArchiveStore",
        "S3ArchiveStore",
        "EmbeddedMongo",
        "GroupCommit",
    }
    outside = [
        cls.__qualname__
        for cls in _storage_classes()
        if cls.__qualname__ not in not_mongo
        and not getattr(cls, "_is_protocol", False)
        and any(
            inspect.iscoroutinefunction(member) or inspect.isasyncgenfunction(member)
            for name, member in vars(cls).items()
            if not name.startswith("_")
        )
        and not issubclass(cls, StorageBoundary)
    ]
    assert outside == []
