"""Matching word lists against folded text, however the words are disguised."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from moderation.text import FoldedText, fold_term, is_cjk, squeezed


@dataclass(frozen=True, slots=True)
class TermMatch:
    """``term`` (as listed) found at ``compact[start:end]`` of the folded text."""

    term: str
    start: int
    end: int


class TermMatcher:
    """Latin words match whole words (``word*``: words starting so); entries with spaces or
    Chinese characters match anywhere in the text with separators removed."""

    def __init__(self, terms: Iterable[str]) -> None:
        self.exact: dict[str, str] = {}
        self.phrases: dict[str, str] = {}
        prefixes: dict[str, str] = {}
        for term in terms:
            stem = term.strip()
            prefix = stem.endswith("*")
            folded = fold_term(stem.rstrip("*"))
            if not folded:
                continue
            if " " in stem or any(is_cjk(c) for c in folded):
                self.phrases.setdefault(folded, term)
            elif prefix:
                prefixes.setdefault(folded, term)
            else:
                self.exact.setdefault(folded, term)
        self.prefixes = prefixes
        ordered = sorted(prefixes, key=len, reverse=True)
        self._prefix = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def __bool__(self) -> bool:
        return bool(self.exact or self.phrases or self.prefixes)

    def find(self, folded: FoldedText) -> list[TermMatch]:
        found: list[TermMatch] = []
        for token in folded.words:
            for spelling in squeezed(folded.word(token)):
                term = self._word_term(spelling)
                if term is not None:
                    found.append(TermMatch(term, token.start, token.end))
                    break
        compact = folded.compact
        for phrase, term in self.phrases.items():
            at = compact.find(phrase)
            while at >= 0:
                found.append(TermMatch(term, at, at + len(phrase)))
                at = compact.find(phrase, at + len(phrase))
        return found

    def _word_term(self, word: str) -> str | None:
        if word in self.exact:
            return self.exact[word]
        if self._prefix is not None:
            hit = self._prefix.match(word)
            if hit is not None:
                return self.prefixes[hit.group()]
        return None
