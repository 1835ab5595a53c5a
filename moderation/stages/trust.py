"""Author trust: proven authors skip borderline holds; new ones may be held if configured.

Trust is earned by comments a person approved, under an identity only the poster can
present (``Comment.trust_key``); a comment without one is a new author's."""

from __future__ import annotations

from moderation.model import AuthorRecord, ModerationContext, StageResult, held, passed
from moderation.rules import TrustSpec
from moderation.stages import Subject

TRUSTED = "trusted_author"


class TrustStage:
    """``pass`` with reason ``trusted_author`` tells the pipeline to waive earlier holds."""

    name = "trust"

    def __init__(self, spec: TrustSpec) -> None:
        self.spec = spec

    async def check(self, subject: Subject, context: ModerationContext) -> StageResult:
        trust_key = subject.comment.trust_key
        record = AuthorRecord() if trust_key is None else await context.author_record(trust_key)
        counts = {"approved": record.approved, "rejected": record.rejected}
        if record.rejected == 0 and record.approved >= self.spec.auto_approve_after:
            return passed(self.name, TRUSTED, **counts)
        limit = self.spec.hold_after_rejections
        if limit and record.rejected >= limit:
            return held(self.name, "author_rejected_before", **counts)
        if self.spec.hold_new_authors and record.approved == 0 and record.rejected == 0:
            return held(self.name, "new_author", **counts)
        return passed(self.name, "ok", **counts)
