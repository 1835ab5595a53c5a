"""An in-memory ``ModerationContext``: for tests, benchmarks and trying rules offline."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from moderation.model import AuthorRecord, Classifier, Comment, Decision, PriorComment


@dataclass
class _Seen:
    prior: PriorComment
    address: str | None
    status: str


@dataclass
class MemoryContext:
    """Remembers decided comments in order; ``record`` adds one after its decision."""

    classifier: Classifier | None = None
    seen: list[_Seen] = field(default_factory=list)

    def record(self, comment_id: str, comment: Comment, decision: Decision) -> None:
        prior = PriorComment(
            comment_id, comment.author_key, decision.fingerprint, comment.received_at
        )
        self.seen.append(_Seen(prior, comment.address, decision.status))

    async def recent_comments(self, since: datetime, limit: int) -> Sequence[PriorComment]:
        recent = [s.prior for s in reversed(self.seen) if s.prior.created_at >= since]
        return recent[:limit]

    async def count_since(
        self, *, author_key: str | None, address: str | None, since: datetime
    ) -> int:
        return sum(
            1
            for s in self.seen
            if s.prior.created_at >= since
            and (author_key is None or s.prior.author_key == author_key)
            and (address is None or s.address == address)
        )

    async def author_record(self, author_key: str) -> AuthorRecord:
        mine = [s.status for s in self.seen if s.prior.author_key == author_key]
        return AuthorRecord(approved=mine.count("approved"), rejected=mine.count("rejected"))
