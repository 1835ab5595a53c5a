"""The pipeline's stages: each looks at one aspect of a comment and returns a verdict."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import cached_property
from typing import Any, Protocol, TypeVar

from moderation.model import Comment, Fingerprint, ModerationContext, StageResult
from moderation.text import FoldedText, fingerprint


class Subject:
    """The comment under moderation and its current text (after earlier transforms)."""

    def __init__(self, comment: Comment, text: str, fingerprint: Fingerprint | None = None) -> None:
        self.comment = comment
        self.text = text
        self._fingerprint = fingerprint

    @cached_property
    def folded(self) -> FoldedText:
        return FoldedText(self.text)

    @property
    def fingerprint(self) -> Fingerprint:
        """Of the text as submitted, so every comment is compared on the same footing."""
        if self._fingerprint is None:
            source = (
                self.folded if self.text == self.comment.text else FoldedText(self.comment.text)
            )
            self._fingerprint = fingerprint(source)
        return self._fingerprint

    def with_text(self, text: str) -> Subject:
        return Subject(self.comment, text, self.fingerprint)

    def prepare(self) -> Subject:
        """Fold the text and fingerprint it now (the costly part), e.g. off the loop."""
        _ = self.folded, self.fingerprint
        return self


class Stage(Protocol):
    """One step of a pipeline. ``check`` never raises for any text."""

    name: str

    async def check(self, subject: Subject, context: ModerationContext) -> StageResult: ...


StageFactory = Callable[[Any], Stage]

# Up to this many characters a text costs less to check than a hand-off to a thread does.
INLINE_CHARS = 200


T = TypeVar("T")


async def off_loop(work: Callable[[Subject], T], subject: Subject) -> T:
    """Run a stage's text work in a worker thread, so the event loop keeps serving other
    requests while a long comment is folded and matched. Every pattern the stages use is
    linear, so a thread holds the interpreter for short stretches only."""
    if len(subject.text) <= INLINE_CHARS:
        return work(subject)
    return await asyncio.to_thread(work, subject)
