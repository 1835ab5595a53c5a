"""Personal data: emails, phone numbers and card numbers (Luhn-checked) found and redacted.

Card numbers are looked for first, so a card is never taken for a phone number; digit
runs that are dates or too short for a phone number are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from moderation.model import ModerationContext, StageResult, held, passed, rejected, transformed
from moderation.rules import PiiAction, PiiSpec
from moderation.stages import Subject, off_loop

_AT = r"(?:@|＠|\s*+(?:\(at\)|\[at\])\s*+)"
_DOT = r"(?:\.|\s*+(?:\(dot\)|\[dot\])\s*+)"
# Linear on any text: the local part starts only where a run of its characters starts and
# is taken whole (possessive), and labels are taken whole, so a failed attempt never
# rescans the run it started in ("a." * 2500 once took a second per comment).
EMAIL = re.compile(
    rf"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]++{_AT}"
    rf"[A-Za-z0-9-]++(?:{_DOT}[A-Za-z0-9-]++)*{_DOT}[a-z]{{2,}}+(?![A-Za-z0-9-])",
    re.IGNORECASE,
)
CARD = re.compile(r"(?<![\d])\d(?:[ -]?\d){12,18}(?![\d])")
PHONE = re.compile(r"(?<![A-Za-z\d+])(?:\+|00)?\(?\d[\d\s().-]{5,20}\d(?![\d])")
DATE = re.compile(r"^\d{4}[-./]\d{1,2}[-./]\d{1,2}$|^\d{1,2}[-./]\d{1,2}[-./]\d{2,4}$")
PLACEHOLDERS = {"emails": "[email removed]", "phones": "[phone removed]", "cards": "[card removed]"}


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, ch in enumerate(reversed(digits)):
        value = int(ch)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


class PiiStage:
    name = "pii"

    def __init__(self, spec: PiiSpec) -> None:
        self.spec = spec
        self.kinds: list[tuple[str, PiiAction, re.Pattern[str], Callable[[str], bool]]] = [
            ("emails", spec.emails, EMAIL, lambda found: True),
            ("cards", spec.cards, CARD, lambda found: luhn_valid(_digits(found))),
            ("phones", spec.phones, PHONE, self._is_phone),
        ]

    def _is_phone(self, found: str) -> bool:
        digits = _digits(found)
        if not self.spec.phone_min_digits <= len(digits) <= 15:
            return False
        return not DATE.match(found.strip())

    async def check(self, subject: Subject, context: ModerationContext) -> StageResult:
        return await off_loop(self.verdict, subject)

    def verdict(self, subject: Subject) -> StageResult:
        text = subject.text
        counts: dict[str, int] = {}
        for kind, action, pattern, accept in self.kinds:
            if action == "off":
                continue
            found = [m for m in pattern.finditer(text) if accept(m.group())]
            if not found:
                continue
            counts[kind] = len(found)
            if action == "reject":
                return rejected(self.name, f"pii_{kind}", found=counts)
            if action == "hold":
                return held(self.name, f"pii_{kind}", found=counts)
            for match in reversed(found):
                text = text[: match.start()] + PLACEHOLDERS[kind] + text[match.end() :]
        if counts:
            return transformed(self.name, "redacted", text, found=counts)
        return passed(self.name)
