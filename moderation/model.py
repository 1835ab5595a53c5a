"""What goes into the pipeline and what comes out: comments, stage results, decisions.

The pipeline sees plain data only. What it needs to know about the past (recent comments,
an author's record) it asks through ``ModerationContext``, which the hub implements over
its database and tests and benchmarks implement in memory.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

Source = Literal["web", "social"]
SOURCES: tuple[Source, ...] = ("web", "social")
Action = Literal["pass", "reject", "hold", "transform"]
Status = Literal["approved", "held", "rejected"]


@dataclass(frozen=True, slots=True)
class Comment:
    """One comment as submitted: text plus who, where from and when.

    ``author_key`` groups an author's comments (flood limits); ``trust_key`` is the
    identity trust is earned and counted under, one only the poster can present (a
    platform account, an authenticated caller, a web author's email with their author
    token). ``None``: nobody can tell this poster from another, so no trust applies."""

    text: str
    source: Source
    author_key: str
    received_at: datetime
    author_name: str = ""
    address: str | None = None
    target: str | None = None
    rating: int | None = None
    trust_key: str | None = None


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """A comment's text reduced for duplicate checks: an exact digest, a MinHash sketch,
    and LSH band keys (texts with similar sketches almost surely share a band key)."""

    digest: str
    sketch: tuple[int, ...]
    bands: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class PriorComment:
    """A recent comment the duplicate stage compares against."""

    id: str
    author_key: str
    fingerprint: Fingerprint
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AuthorRecord:
    """How an author's earlier comments were decided (counts may be capped by the caller):
    ``approved`` counts comments a person approved (automatic approvals earn no trust, or
    anyone could earn it with a few clean comments); ``rejected`` counts every rejection."""

    approved: int = 0
    rejected: int = 0


@dataclass(frozen=True, slots=True)
class ClassifierResult:
    """An external classifier's answer: a score in [0, 1] (1 = abusive) and its labels."""

    score: float
    labels: tuple[str, ...] = ()


Classifier = Callable[[Comment, str], Awaitable[ClassifierResult]]


class ModerationContext(Protocol):
    """The state stages may ask about; every method must be safe to call concurrently."""

    async def similar_comments(
        self, fingerprint: Fingerprint, since: datetime, limit: int
    ) -> Sequence[PriorComment]:
        """Comments received at or after ``since`` that may be similar: the same digest
        first, then those sharing a band key; newest first, at most ``limit``."""
        ...

    async def count_since(
        self, *, author_key: str | None, address: str | None, since: datetime
    ) -> int:
        """How many comments the author (or the address) sent at or after ``since``."""
        ...

    async def author_record(self, trust_key: str) -> AuthorRecord:
        """The record of the comments sent under ``trust_key``."""
        ...

    @property
    def classifier(self) -> Classifier | None:
        """The external classifier, when one is configured."""
        ...


@dataclass(frozen=True, slots=True)
class StageResult:
    """One stage's verdict. ``reason`` is a stable code; ``detail`` explains it to humans."""

    stage: str
    action: Action
    reason: str = "ok"
    detail: dict[str, Any] = field(default_factory=dict)
    text: str | None = None  # the new text, for "transform"

    def as_record(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "action": self.action,
            "reason": self.reason,
            "detail": self.detail,
        }


def passed(stage: str, reason: str = "ok", **detail: Any) -> StageResult:
    return StageResult(stage, "pass", reason, detail)


def rejected(stage: str, reason: str, **detail: Any) -> StageResult:
    return StageResult(stage, "reject", reason, detail)


def held(stage: str, reason: str, **detail: Any) -> StageResult:
    return StageResult(stage, "hold", reason, detail)


def transformed(stage: str, reason: str, text: str, **detail: Any) -> StageResult:
    return StageResult(stage, "transform", reason, detail, text)


@dataclass(frozen=True, slots=True)
class Decision:
    """The pipeline's outcome: the status, the stage and reason that settled it, the text
    to publish (after redaction), the rules version, and every stage's verdict in order."""

    status: Status
    stage: str
    reason: str
    text: str
    rules_version: str
    fingerprint: Fingerprint
    trail: Sequence[StageResult] = ()

    def as_record(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "stage": self.stage,
            "reason": self.reason,
            "rules_version": self.rules_version,
            "trail": [result.as_record() for result in self.trail],
        }
