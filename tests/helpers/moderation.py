"""Running one stage, or a whole pipeline, on a comment in memory."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from moderation import Comment, ModerationRules, Pipeline, StageResult
from moderation.memory import MemoryContext
from moderation.pipeline import STAGES
from moderation.stages import Subject

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def comment(text: str, *, author: str = "author-1", at: float = 0, **extra: Any) -> Comment:
    fields: dict[str, Any] = {
        "source": "web",
        "address": "198.51.100.7",
        "trust_key": author,
        **extra,
    }
    return Comment(text=text, author_key=author, received_at=T0 + timedelta(seconds=at), **fields)


async def check(
    spec: Any, text: str, context: MemoryContext | None = None, **kw: Any
) -> StageResult:
    stage = STAGES[type(spec)](spec)
    c = comment(text, **kw)
    return await stage.check(Subject(c, c.text), context or MemoryContext())


async def remember(
    context: MemoryContext,
    *texts: str,
    author: str = "author-1",
    start: float = 0,
    reviewed: bool = False,
    **kw: Any,
) -> None:
    """Run ``texts`` through the default pipeline (a second apart) and record them; with
    ``reviewed``, a person then approves each one the pipeline approved."""
    pipeline = Pipeline(ModerationRules())
    for n, text in enumerate(texts):
        c = comment(text, author=author, at=start + n, **kw)
        decision = await pipeline.run(c, context)
        context.record(f"{author}-{start + n}", c, decision)
        if reviewed and decision.status == "approved":
            context.approve(c)
