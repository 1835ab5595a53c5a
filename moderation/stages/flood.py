"""Rate and flood limits: how many comments one author, or one address, sent lately."""

from __future__ import annotations

from datetime import timedelta

from moderation.model import ModerationContext, StageResult, passed, rejected
from moderation.rules import FloodSpec
from moderation.stages import Subject


class FloodStage:
    name = "flood"

    def __init__(self, spec: FloodSpec) -> None:
        self.spec = spec

    async def check(self, subject: Subject, context: ModerationContext) -> StageResult:
        comment = subject.comment
        limit = self.spec.per_author
        since = comment.received_at - timedelta(seconds=limit.window_seconds)
        sent = await context.count_since(author_key=comment.author_key, address=None, since=since)
        if sent >= limit.count:
            return rejected(self.name, "author_flood", sent=sent, limit=limit.count)
        limit_by_address = self.spec.per_address
        if limit_by_address is not None and comment.address:
            since = comment.received_at - timedelta(seconds=limit_by_address.window_seconds)
            sent = await context.count_since(author_key=None, address=comment.address, since=since)
            if sent >= limit_by_address.count:
                return rejected(self.name, "address_flood", sent=sent, limit=limit_by_address.count)
        return passed(self.name)
