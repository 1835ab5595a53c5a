"""Size and encoding: the text must be real text of a sensible size; it leaves NFKC-normal."""

from __future__ import annotations

import unicodedata

from moderation.model import ModerationContext, StageResult, passed, rejected, transformed
from moderation.rules import SizeSpec
from moderation.stages import Subject, off_loop

_ALLOWED_CONTROLS = frozenset("\n\t")
# Bidirectional overrides and isolates can make a comment read differently than it is.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u2060\ufeff\u00ad"))


class SizeStage:
    name = "size"

    def __init__(self, spec: SizeSpec) -> None:
        self.spec = spec

    async def check(self, subject: Subject, context: ModerationContext) -> StageResult:
        return await off_loop(self.verdict, subject)

    def verdict(self, subject: Subject) -> StageResult:
        text = subject.text.replace("\r\n", "\n").replace("\r", "\n")
        for ch in text:
            category = unicodedata.category(ch)
            if category == "Cs":
                return rejected(self.name, "invalid_encoding")
            if (category == "Cc" and ch not in _ALLOWED_CONTROLS) or ch in _BIDI_CONTROLS:
                return rejected(self.name, "control_characters", codepoint=f"U+{ord(ch):04X}")
        normal = unicodedata.normalize("NFKC", text).translate(_INVISIBLE).strip()
        if len(normal) < self.spec.min_chars:
            return rejected(self.name, "too_short" if normal else "empty", chars=len(normal))
        if len(normal) > self.spec.max_chars:
            return rejected(self.name, "too_long", chars=len(normal), max=self.spec.max_chars)
        if normal.count("\n") + 1 > self.spec.max_lines:
            return rejected(self.name, "too_many_lines", max=self.spec.max_lines)
        if normal != subject.text:
            return transformed(self.name, "normalized", normal)
        return passed(self.name)
