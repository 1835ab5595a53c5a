"""Compare a replica with its source by digests, list the differences, and repair them.

Collections are compared by digest first; only a collection whose digests differ is
compared document by document (``_id`` → hash, held in memory for that collection). The
conversations touched by a difference are then compared by their own digests, which is
what an operator reads: "these conversations differ", not just "these documents".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pymongo.asynchronous.database import AsyncDatabase

from storage.digest import Digest, collection_digest, conversation_digest, document_hashes
from storage.errors import translated
from storage.replicator import replicated_collections

Document = dict[str, Any]
DifferenceKind = Literal["missing", "extra", "different"]


@dataclass(frozen=True, slots=True)
class Difference:
    """One document that is not the same on both sides."""

    collection: str
    id: Any
    kind: DifferenceKind  # missing: only in the source; extra: only in the replica


@dataclass
class VerifyReport:
    collections: dict[str, tuple[Digest, Digest]] = field(default_factory=dict)
    differences: list[Difference] = field(default_factory=list)
    conversations: dict[str, tuple[Digest, Digest]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.differences

    def lines(self) -> list[str]:
        out = []
        for name, (source, target) in sorted(self.collections.items()):
            state = "same" if source == target else "DIFFERENT"
            out.append(
                f"collection {name}: {state} (source {source.count}, replica {target.count})"
            )
        for conversation_id, (source, target) in sorted(self.conversations.items()):
            out.append(
                f"conversation {conversation_id}: digest {source.sha256[:12]} != "
                f"{target.sha256[:12]} (source {source.count} docs, replica {target.count})"
            )
        out.extend(f"{d.kind} {d.collection} {d.id}" for d in self.differences)
        out.append(f"{len(self.differences)} differences")
        return out


async def _hashes(db: AsyncDatabase[Document], name: str) -> dict[Any, str]:
    return {doc_id: doc_hash async for doc_id, doc_hash in document_hashes(db[name])}


@translated
async def verify(source: AsyncDatabase[Document], target: AsyncDatabase[Document]) -> VerifyReport:
    """Digests of every replicated collection on both sides, and what differs."""
    report = VerifyReport()
    names = set(await source.list_collection_names()) | set(await target.list_collection_names())
    touched: set[str] = set()
    for name in replicated_collections(sorted(names)):
        digests = (await collection_digest(source[name]), await collection_digest(target[name]))
        report.collections[name] = digests
        if digests[0] == digests[1]:
            continue
        ours, theirs = await _hashes(source, name), await _hashes(target, name)
        for doc_id in sorted(ours.keys() | theirs.keys(), key=repr):
            if doc_id not in theirs:
                kind: DifferenceKind = "missing"
            elif doc_id not in ours:
                kind = "extra"
            elif ours[doc_id] != theirs[doc_id]:
                kind = "different"
            else:
                continue
            report.differences.append(Difference(name, doc_id, kind))
            touched |= await _conversations_of(source, target, name, doc_id)
    for conversation_id in sorted(touched):
        report.conversations[conversation_id] = (
            await conversation_digest(source, conversation_id),
            await conversation_digest(target, conversation_id),
        )
    return report


async def _conversations_of(
    source: AsyncDatabase[Document], target: AsyncDatabase[Document], name: str, doc_id: Any
) -> set[str]:
    if name == "conversations":
        return {str(doc_id)}
    if name != "messages":
        return set()
    found = set()
    for db in (source, target):
        doc = await db[name].find_one({"_id": doc_id}, projection={"conversation_id": 1})
        if doc is not None:
            found.add(str(doc["conversation_id"]))
    return found


@translated
async def repair(
    source: AsyncDatabase[Document],
    target: AsyncDatabase[Document],
    differences: list[Difference],
    on_fixed: Callable[[Difference], None] | None = None,
) -> int:
    """Make each differing replica document equal to the source's (or remove it)."""
    for difference in differences:
        key = {"_id": difference.id}
        doc = await source[difference.collection].find_one(key)
        if doc is None:
            await target[difference.collection].delete_one(key)
        else:
            await target[difference.collection].replace_one(key, doc, upsert=True)
        if on_fixed is not None:
            on_fixed(difference)
    return len(differences)
