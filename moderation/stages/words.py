"""Banned and watched words: block rejects, hold holds, censor masks the word in place."""

from __future__ import annotations

from moderation.model import ModerationContext, StageResult, held, passed, rejected, transformed
from moderation.rules import WordsSpec
from moderation.stages import Subject, off_loop
from moderation.terms import TermMatch, TermMatcher
from moderation.text import FoldedText


class WordsStage:
    name = "words"

    def __init__(self, spec: WordsSpec) -> None:
        self.spec = spec
        self.block = TermMatcher(spec.block)
        self.hold = TermMatcher(spec.hold)
        self.censor = TermMatcher(spec.censor)

    async def check(self, subject: Subject, context: ModerationContext) -> StageResult:
        return await off_loop(self.verdict, subject)

    def verdict(self, subject: Subject) -> StageResult:
        folded = subject.folded
        blocked = self.block.find(folded)
        if blocked:
            return rejected(self.name, "banned_word", terms=_terms(blocked))
        watched = self.hold.find(folded)
        if watched:
            return held(self.name, "watched_word", terms=_terms(watched))
        masked = self.censor.find(folded)
        if masked:
            text = _mask(folded, masked, self.spec.mask)
            return transformed(self.name, "censored", text, terms=_terms(masked))
        return passed(self.name)


def _terms(matches: list[TermMatch]) -> list[str]:
    return sorted({match.term for match in matches})


def _mask(folded: FoldedText, matches: list[TermMatch], mask: str) -> str:
    chars = list(folded.original)
    for match in matches:
        start, end = folded.span(match.start, match.end)
        for index in range(start, end):
            if not chars[index].isspace():
                chars[index] = mask
    return "".join(chars)
