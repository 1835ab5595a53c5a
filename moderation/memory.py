"""An in-memory ``ModerationContext``: for tests, benchmarks and trying rules offline."""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from moderation.model import (
    AuthorRecord,
    Classifier,
    Comment,
    Decision,
    Fingerprint,
    PriorComment,
)


@dataclass
class MemoryContext:
    """Remembers decided comments; ``record`` adds one after its decision. Comments are
    expected in the order they were received."""

    classifier: Classifier | None = None
    _by_digest: dict[str, list[PriorComment]] = field(default_factory=lambda: defaultdict(list))
    _by_band: dict[int, list[PriorComment]] = field(default_factory=lambda: defaultdict(list))
    _times: dict[str, list[datetime]] = field(default_factory=lambda: defaultdict(list))
    _records: dict[str, AuthorRecord] = field(default_factory=dict)

    def record(self, comment_id: str, comment: Comment, decision: Decision) -> None:
        prior = PriorComment(
            comment_id, comment.author_key, decision.fingerprint, comment.received_at
        )
        self._by_digest[prior.fingerprint.digest].append(prior)
        for key in prior.fingerprint.bands:
            self._by_band[key].append(prior)
        self._times["author:" + comment.author_key].append(comment.received_at)
        if comment.address is not None:
            self._times["address:" + comment.address].append(comment.received_at)
        if decision.status == "rejected":
            self._count(comment, rejected=1)

    def approve(self, comment: Comment) -> None:
        """A person approved ``comment``: that, and only that, earns trust."""
        self._count(comment, approved=1)

    def _count(self, comment: Comment, approved: int = 0, rejected: int = 0) -> None:
        if comment.trust_key is None:
            return
        old = self._records.get(comment.trust_key, AuthorRecord())
        self._records[comment.trust_key] = AuthorRecord(
            old.approved + approved, old.rejected + rejected
        )

    async def similar_comments(
        self, fingerprint: Fingerprint, since: datetime, limit: int
    ) -> Sequence[PriorComment]:
        def newest(found: dict[str, PriorComment]) -> list[PriorComment]:
            recent = [p for p in found.values() if p.created_at >= since]
            return sorted(recent, key=lambda p: (p.created_at, p.id), reverse=True)

        exact = newest({p.id: p for p in self._by_digest.get(fingerprint.digest, ())})
        if len(exact) >= limit:
            return exact[:limit]
        near: dict[str, PriorComment] = {}
        for key in fingerprint.bands:
            near.update((p.id, p) for p in self._by_band.get(key, ()))
        for prior in exact:
            near.pop(prior.id, None)
        return (exact + newest(near))[:limit]

    async def count_since(
        self, *, author_key: str | None, address: str | None, since: datetime
    ) -> int:
        key = f"author:{author_key}" if author_key is not None else f"address:{address}"
        times = self._times.get(key, [])
        return len(times) - bisect_left(times, since)

    async def author_record(self, trust_key: str) -> AuthorRecord:
        return self._records.get(trust_key, AuthorRecord())
