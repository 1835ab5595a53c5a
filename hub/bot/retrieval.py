"""Ranking knowledge entries against a customer's question (BM25), with a confidence.

Every question wording of every entry is one BM25 document; an entry scores as its best
wording. BM25 scores are unbounded and not comparable across queries, so the confidence
is computed separately, in 0..1: the IDF-weighted overlap between the question's terms
and the best wording's terms, as an F1 of both coverages. A question that shares only
common words with an entry, or that talks about much more than the entry, scores low.
Words the knowledge base never uses weigh as much as an average known word: they say the
customer asks about something else, without one odd word sinking a clear question.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

from rank_bm25 import BM25Okapi

from hub.bot.text import language_of, tokenize
from hub.domain import KnowledgeEntry

# How many ranked entries the language preference looks through.
PREFERENCE_POOL = 5


@dataclass(frozen=True, slots=True)
class Match:
    """An entry found for a question, with how sure the match is (0..1)."""

    entry: KnowledgeEntry
    score: float
    confidence: float
    question: str


class KnowledgeIndex:
    """An immutable BM25 index over the entries' question wordings."""

    def __init__(self, entries: list[KnowledgeEntry]) -> None:
        self.entries = list(entries)
        self._docs: list[tuple[KnowledgeEntry, str, list[str]]] = []
        for entry in self.entries:
            for question in entry.questions:
                terms = tokenize(question)
                if terms:
                    self._docs.append((entry, question, terms))
        self._bm25 = BM25Okapi([terms for _, _, terms in self._docs]) if self._docs else None
        df: Counter[str] = Counter()
        for _, _, terms in self._docs:
            df.update(set(terms))
        n = len(self._docs)
        # Lucene's BM25 idf: always positive, so every shared word counts for something.
        self._weights = {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}
        self._unknown_weight = (
            sum(self._weights.values()) / len(self._weights) if self._weights else 1.0
        )

    def __len__(self) -> int:
        return len(self.entries)

    def weight(self, term: str) -> float:
        return self._weights.get(term, self._unknown_weight)

    def confidence(self, query_terms: set[str], doc_terms: set[str]) -> float:
        shared = sum(self.weight(t) for t in query_terms & doc_terms)
        if shared == 0:
            return 0.0
        query_cover = shared / sum(self.weight(t) for t in query_terms)
        doc_cover = shared / sum(self.weight(t) for t in doc_terms)
        return 2 * query_cover * doc_cover / (query_cover + doc_cover)

    def search(self, question: str, limit: int = 3) -> list[Match]:
        """The best entries for ``question``, best first (entries with no shared word omitted)."""
        terms = tokenize(question)
        if self._bm25 is None or not terms:
            return []
        scores = self._bm25.get_scores(terms)
        query_set = set(terms)
        best: dict[str, Match] = {}
        for (entry, wording, doc_terms), score in zip(self._docs, scores, strict=True):
            confidence = self.confidence(query_set, set(doc_terms))
            if confidence == 0:
                continue
            current = best.get(entry.id)
            candidate = Match(entry, float(score), confidence, wording)
            if current is None or (candidate.score, candidate.confidence) > (
                current.score,
                current.confidence,
            ):
                best[entry.id] = candidate
        ranked = sorted(best.values(), key=lambda m: (-m.score, -m.confidence, m.entry.id))
        return ranked[:limit]

    def answer(self, question: str, threshold: float) -> Match | None:
        """The best entry at least ``threshold`` sure, else nothing. Among those, an entry
        in the question's language comes first, then one for any language: a customer who
        writes Chinese gets the Chinese answer even where the English wording scores higher."""
        sure = [
            m for m in self.search(question, limit=PREFERENCE_POOL) if m.confidence >= threshold
        ]
        if not sure:
            return None
        language = language_of(question)
        for wanted in (language, None):
            for match in sure:
                if match.entry.language == wanted:
                    return match
        return sure[0]
