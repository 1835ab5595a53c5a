"""The configured database for one command: the embedded server is started when needed."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from hub.config import ChorusConfig
from storage.embedded import EmbeddedMongo
from storage.mongo import MongoStore, make_client


@contextlib.asynccontextmanager
async def connected(config: ChorusConfig) -> AsyncIterator[MongoStore]:
    """Connect to ``mongo.uri``, or start the embedded server for the block when it is empty."""
    embedded = None
    uri = config.mongo.uri
    if not uri:
        embedded = EmbeddedMongo(config.mongo.embedded.data_dir, config.mongo.embedded.port)
        await embedded.astart(config.mongo.embedded.start_timeout_seconds)
        uri = embedded.uri
    mongo = MongoStore(make_client(uri), config.mongo.database, config.mongo.write_concern)
    try:
        yield mongo
    finally:
        await mongo.close()
        if embedded is not None:
            await embedded.astop()
