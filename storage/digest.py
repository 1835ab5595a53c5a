"""Content hashes and digests of stored documents, to prove two copies are the same.

A document's hash is SHA-256 over its canonical BSON: keys sorted at every depth, so two
copies that differ only in field order (an update appends fields, a replace writes them
in its own order) hash the same. A digest of many documents is SHA-256 over their
``_id`` and hash, in ``_id`` order (a conversation's digest covers its own document and
its messages): a client that kept the hash of every change it received can recompute a
digest with ``digest_of`` without re-encoding anything.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import bson
from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from storage.webhook_journal import without_bookkeeping

Document = dict[str, Any]
# Reads documents as the exact bytes the server holds (for byte-for-byte comparisons).
RAW = CodecOptions(document_class=RawBSONDocument)


def _canonical(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: _canonical(value[key]) for key in sorted(value)}
    if isinstance(value, list | tuple):
        return [_canonical(item) for item in value]
    return value


def canonical_bson(doc: Mapping[str, Any]) -> bytes:
    """The document as BSON with keys sorted recursively (the form that is hashed)."""
    return bson.encode(_canonical(doc))


def document_hash(doc: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of one document's canonical BSON."""
    return hashlib.sha256(canonical_bson(doc)).hexdigest()


@dataclass(frozen=True, slots=True)
class Digest:
    """How many documents a digest covers, and the digest itself (hex)."""

    count: int
    sha256: str

    def as_dict(self) -> dict[str, Any]:
        return {"count": self.count, "sha256": self.sha256}


class DigestBuilder:
    """Folds ``(_id, hash)`` pairs, fed in ``_id`` order, into a ``Digest``."""

    def __init__(self) -> None:
        self._sha = hashlib.sha256()
        self.count = 0

    def add(self, doc_id: Any, doc_hash: str) -> None:
        self._sha.update(canonical_bson({"_id": doc_id}))
        self._sha.update(bytes.fromhex(doc_hash))
        self.count += 1

    def result(self) -> Digest:
        return Digest(self.count, self._sha.hexdigest())


def digest_of(hashes: Mapping[Any, str]) -> Digest:
    """The digest of ``{_id: hash}`` pairs (what a client can compute from the feed)."""
    builder = DigestBuilder()
    for doc_id in sorted(hashes):
        builder.add(doc_id, hashes[doc_id])
    return builder.result()


async def document_hashes(
    coll: AsyncCollection[Document], filter: Mapping[str, Any] | None = None
) -> AsyncIterator[tuple[Any, str]]:
    """``(_id, hash)`` of every matching document, in ``_id`` order."""
    async for doc in coll.find(dict(filter or {})).sort("_id", 1):
        yield doc["_id"], document_hash(without_bookkeeping(doc))


async def collection_digest(
    coll: AsyncCollection[Document], filter: Mapping[str, Any] | None = None
) -> Digest:
    """The digest of the documents of ``coll`` that match ``filter``."""
    builder = DigestBuilder()
    async for doc_id, doc_hash in document_hashes(coll, filter):
        builder.add(doc_id, doc_hash)
    return builder.result()


async def conversation_digest(db: AsyncDatabase[Document], conversation_id: str) -> Digest:
    """The digest of one conversation: its document and its messages, all in ``_id`` order.

    Returns a digest with ``count == 0`` when the conversation does not exist.
    """
    conversation = await db["conversations"].find_one({"_id": conversation_id})
    if conversation is None:
        return DigestBuilder().result()
    hashes = {conversation_id: document_hash(without_bookkeeping(conversation))}
    async for doc_id, doc_hash in document_hashes(
        db["messages"], {"conversation_id": conversation_id}
    ):
        hashes[doc_id] = doc_hash
    return digest_of(hashes)
