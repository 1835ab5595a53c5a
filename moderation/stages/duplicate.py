"""Duplicates: the same text (however spaced or cased) or nearly the same, seen lately."""

from __future__ import annotations

from datetime import timedelta

from moderation.model import ModerationContext, StageResult, held, passed, rejected
from moderation.rules import DuplicateSpec
from moderation.stages import Subject, off_loop
from moderation.text import Resemblance, is_cjk


class DuplicateStage:
    name = "duplicate"

    def __init__(self, spec: DuplicateSpec) -> None:
        self.spec = spec

    async def check(self, subject: Subject, context: ModerationContext) -> StageResult:
        await off_loop(Subject.prepare, subject)
        compact = subject.folded.compact
        # A Chinese character says about as much as a short word: it counts three.
        if len(compact) + 2 * sum(1 for c in compact if is_cjk(c)) < self.spec.min_chars:
            return passed(self.name, "too_short_to_compare")
        mine = subject.fingerprint
        resemblance = Resemblance(mine)
        floor = min(self.spec.near_threshold, 1.0)
        since = subject.comment.received_at - timedelta(seconds=self.spec.window_seconds)
        best, best_id = 0.0, ""
        candidates = await context.similar_comments(mine, since, self.spec.max_candidates)
        for prior in candidates:
            score = resemblance.to(prior.fingerprint, at_least=floor)
            if score > best:
                best, best_id = score, prior.id
            if score == 1.0:
                break
        if best == 1.0:
            return self._verdict(self.spec.exact_action, "duplicate", best_id, best)
        if best >= self.spec.near_threshold:
            return self._verdict(self.spec.near_action, "near_duplicate", best_id, best)
        return passed(self.name)

    def _verdict(self, action: str, reason: str, of: str, score: float) -> StageResult:
        detail = {"of": of, "similarity": round(score, 3)}
        if action == "reject":
            return rejected(self.name, reason, **detail)
        if action == "hold":
            return held(self.name, reason, **detail)
        return passed(self.name, reason, **detail)
