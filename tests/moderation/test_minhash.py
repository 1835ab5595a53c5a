"""MinHash fingerprints: accuracy on a generated corpus, and no collisions by construction.

The corpus is generated from a fixed seed: texts of random words, each with a near
duplicate (one to three words replaced, inserted or deleted). A near duplicate must be
found (it shares an LSH band key with its original) and scored close to its true Jaccard
similarity; unrelated texts must neither share band keys nor score as similar.
"""

from __future__ import annotations

import random
import statistics
import zlib

from moderation.model import Fingerprint
from moderation.text import SHINGLE, FoldedText, fingerprint, similarity

NEAR = 0.7  # the duplicate stage's default near_threshold
INT64 = 2**63


def _shingles(text: str) -> set[str]:
    compact = FoldedText(text).compact
    return {compact[i : i + SHINGLE] for i in range(len(compact) - SHINGLE + 1)}


def _jaccard(a: str, b: str) -> float:
    first, second = _shingles(a), _shingles(b)
    return len(first & second) / len(first | second)


def _corpus(seed: int, size: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz"
    vocabulary = [
        "".join(rng.choice(letters) for _ in range(rng.randint(3, 9))) for _ in range(3000)
    ]
    pairs = []
    for _ in range(size):
        words = [rng.choice(vocabulary) for _ in range(rng.randint(20, 40))]
        edited = list(words)
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(edited))
            edit = rng.choice(("replace", "insert", "delete"))
            if edit == "replace":
                edited[at] = rng.choice(vocabulary)
            elif edit == "insert":
                edited.insert(at, rng.choice(vocabulary))
            else:
                del edited[at]
        pairs.append((" ".join(words), " ".join(edited)))
    return pairs


def _candidates(a: Fingerprint, b: Fingerprint) -> bool:
    return bool(set(a.bands) & set(b.bands))


def test_near_duplicates_are_found_and_scored_close_to_their_jaccard() -> None:
    pairs = _corpus(seed=20261202, size=300)
    errors, found = [], 0
    for original, near in pairs:
        first, second = fingerprint(FoldedText(original)), fingerprint(FoldedText(near))
        found += _candidates(first, second) and similarity(first, second) >= NEAR
        errors.append(abs(similarity(first, second) - _jaccard(original, near)))
    assert found / len(pairs) >= 0.97, found  # recall of near duplicates
    assert statistics.mean(errors) <= 0.04, statistics.mean(errors)
    assert max(errors) <= 0.2, max(errors)


def test_unrelated_texts_are_neither_candidates_nor_similar() -> None:
    originals = [original for original, _ in _corpus(seed=7, size=250)]
    prints = [fingerprint(FoldedText(text)) for text in originals]
    pairs = [(a, b) for i, a in enumerate(prints) for b in prints[i + 1 :]]
    shared = sum(_candidates(a, b) for a, b in pairs)
    similar = sum(similarity(a, b) >= NEAR / 2 for a, b in pairs)
    assert (shared, similar) == (0, 0), (shared, similar, len(pairs))


def test_distinct_texts_do_not_collide_as_with_crc32() -> None:
    # Two different three-character comments whose UTF-8 bytes share a CRC32 value: with
    # CRC32 as the shingle hash their sketches were equal and they scored 1.0 alike.
    first, second = "噡垞埬", "夼厥嗧"
    assert zlib.crc32(first.encode()) == zlib.crc32(second.encode())
    a, b = fingerprint(FoldedText(first)), fingerprint(FoldedText(second))
    assert a.sketch != b.sketch
    assert similarity(a, b) == 0.0
    assert not _candidates(a, b)


def test_values_fit_signed_64_bit_integers_as_mongodb_stores_them() -> None:
    prints = [fingerprint(FoldedText(text)) for pair in _corpus(seed=1, size=50) for text in pair]
    values = [v for p in prints for v in (*p.sketch, *p.bands)]
    assert all(0 <= value < INT64 for value in values)
    assert len({v for p in prints for v in p.sketch}) > 1000  # a spread, not a constant
