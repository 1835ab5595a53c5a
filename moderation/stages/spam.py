"""Spam heuristics: links, known spam phrases, shouting and repeated characters, scored.

Each signal adds to a score; at ``hold_score`` the comment is held, at ``reject_score``
rejected. More links than ``max_links`` rejects outright.
"""

from __future__ import annotations

import re

from moderation.model import ModerationContext, StageResult, held, passed, rejected
from moderation.rules import SpamSpec
from moderation.stages import Subject, off_loop
from moderation.terms import TermMatcher

_TLDS = "com|net|org|info|biz|ru|cn|xyz|top|io|ly|co|me|tk|ml|ga|cf|gq|click|link|shop|site"
# A bare host name starts only at the start of a run of host characters (not after a
# letter, digit, hyphen, or a dot that follows one), and its labels are taken whole: one
# attempt per run, so the pattern is linear ("a." * 2500 once took a second per comment).
LINK = re.compile(
    r"(?:https?://|www\.)[^\s<>\"']++"
    r"|(?<![a-z0-9-])(?<![a-z0-9-]\.)-*+[a-z0-9][a-z0-9-]*+(?:\.[a-z0-9-]++)*"
    rf"\.(?:{_TLDS})\b(?:/\S*+)?",
    re.IGNORECASE,
)


class SpamStage:
    name = "spam"

    def __init__(self, spec: SpamSpec) -> None:
        self.spec = spec
        self.patterns = TermMatcher(spec.patterns)
        self.repeat = re.compile(rf"(\S)\1{{{spec.repeat_run - 1},}}")

    async def check(self, subject: Subject, context: ModerationContext) -> StageResult:
        return await off_loop(self.verdict, subject)

    def verdict(self, subject: Subject) -> StageResult:
        spec, text = self.spec, subject.text
        links = len(LINK.findall(text))
        if links > spec.max_links:
            return rejected(self.name, "too_many_links", links=links, max=spec.max_links)
        signals: dict[str, float] = {}
        if links:
            signals["links"] = links * spec.link_score
        phrases = {match.term for match in self.patterns.find(subject.folded)}
        if phrases:
            signals["patterns"] = len(phrases) * spec.pattern_score
        letters = [c for c in text if c.isalpha() and c.lower() != c.upper()]
        if len(letters) >= spec.caps_min_letters:
            upper = sum(1 for c in letters if c.isupper())
            if upper / len(letters) >= spec.caps_ratio:
                signals["caps"] = spec.caps_score
        if self.repeat.search(text):
            signals["repeated_characters"] = spec.repeat_score
        score = sum(signals.values())
        detail = {"score": score, "signals": signals, "phrases": sorted(phrases)}
        if score >= spec.reject_score:
            return rejected(self.name, "spam", **detail)
        if score >= spec.hold_score:
            return held(self.name, "possible_spam", **detail)
        return passed(self.name, score=score) if score else passed(self.name)
