"""Collection digests: a fingerprint of a collection's exact contents.

The digest is SHA-256 over the canonical BSON of every document, in ``_id`` order, each
document's bytes exactly as the server returns them (BSON is length-prefixed, so the
concatenation is unambiguous). Two collections with the same digest hold byte-identical
documents; backups, restores and replicas compare them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bson import encode
from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument
from pymongo.asynchronous.collection import AsyncCollection

RAW = CodecOptions(document_class=RawBSONDocument)


@dataclass(frozen=True)
class CollectionDigest:
    count: int
    sha256: str


async def collection_digest(collection: AsyncCollection[Any]) -> CollectionDigest:
    """Count and digest of a collection as it is now."""
    raw = collection.with_options(codec_options=RAW)
    hasher = hashlib.sha256()
    count = 0
    async for doc in raw.find({}, sort=[("_id", 1)], batch_size=1000):
        hasher.update(doc.raw)
        count += 1
    return CollectionDigest(count, hasher.hexdigest())


def documents_digest(documents: Iterable[dict[str, Any]]) -> CollectionDigest:
    """The same digest over documents already in ``_id`` order (for in-memory checks)."""
    hasher = hashlib.sha256()
    count = 0
    for doc in documents:
        hasher.update(encode(doc))
        count += 1
    return CollectionDigest(count, hasher.hexdigest())
