"""Text folding for matching: the same word however it is disguised.

A comment is folded character by character (NFKC, case-folded, look-alike letters from
other scripts mapped to Latin, leetspeak digits and symbols mapped to letters), keeping
for every folded character the index of the original one, so a match can be censored in
the original text. Separators are dropped into a ``compact`` string (for Chinese and for
phrases) and kept as token boundaries (for whole-word matching of Latin words).
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib.resources import files

from moderation.model import Fingerprint

# Cyrillic and Greek letters that look like Latin ones (after case folding).
_HOMOGLYPHS = str.maketrans(
    {
        "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o",
        "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i",
        "ј": "j", "ԁ": "d", "ɡ": "g", "һ": "h", "ӏ": "l", "α": "a", "β": "b", "ε": "e",
        "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u",
        "χ": "x", "ω": "w", "ß": "ss", "ı": "i",
    }
)  # fmt: skip
_LEET = {
    "0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g",
    "@": "a", "$": "s", "!": "i", "|": "l", "+": "t", "€": "e",
}  # fmt: skip
# Leet symbols that are ordinary punctuation when they end or start a word ("wow!").
_EDGE_PUNCTUATION = frozenset("!|+")
# Unicode's Default_Ignorable_Code_Point ranges (DerivedCoreProperties.txt) that are not
# format characters (Cf): the combining grapheme joiner, Hangul fillers, variation
# selectors and unassigned ignorables. Cf characters are recognised by their category.
_IGNORABLE_RANGES = (
    (0x034F, 0x034F), (0x115F, 0x1160), (0x17B4, 0x17B5), (0x180B, 0x180F),
    (0x3164, 0x3164), (0xFE00, 0xFE0F), (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A), (0xE0000, 0xE0FFF),
)  # fmt: skip


def is_ignorable(ch: str) -> bool:
    """Invisible in rendering: a format character or another default-ignorable one."""
    code = ord(ch)
    if unicodedata.category(ch) == "Cf":
        return True
    return any(low <= code <= high for low, high in _IGNORABLE_RANGES)


@lru_cache(maxsize=1)
def _skeletons() -> dict[str, str]:
    """Letters of other scripts whose Unicode TR39 prototype is a Latin letter, from the
    confusables table confusable-homoglyphs ships (built from Unicode's confusables.txt).
    That table lists each pair both ways; a source has its prototype as its only entry.
    Chinese characters are never folded: they are matched as they are."""
    table = json.loads((files("confusable_homoglyphs") / "confusables.json").read_text("utf-8"))
    skeletons: dict[str, str] = {}
    for source, entries in table.items():
        if len(source) != 1 or source.isascii() or is_cjk(source) or len(entries) != 1:
            continue
        if not unicodedata.category(source).startswith("L"):
            continue
        prototype = unicodedata.normalize("NFKC", entries[0]["c"]).casefold()
        if prototype.isascii() and prototype.isalpha():
            skeletons[source] = prototype
    return skeletons


@lru_cache(maxsize=8192)
def fold_char(ch: str) -> str:
    """One character's folded form: possibly empty, possibly several characters."""
    if is_ignorable(ch):
        return ""
    folded = unicodedata.normalize("NFKC", ch).casefold().translate(_HOMOGLYPHS)
    # Strip combining marks so "fück" and "fu\u0308ck" fold to "fuck".
    bare = (c for c in unicodedata.normalize("NFD", folded) if not unicodedata.combining(c))
    skeletons = _skeletons()
    return "".join(skeletons.get(c, c) for c in bare if not is_ignorable(c))


def is_cjk(ch: str) -> bool:
    code = ord(ch)
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0x20000 <= code <= 0x2FA1F
        or 0xF900 <= code <= 0xFAFF
        or 0x3040 <= code <= 0x30FF
        or 0xAC00 <= code <= 0xD7AF
    )


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch in _LEET


@dataclass(frozen=True, slots=True)
class Token:
    """A word in the compact string: ``compact[start:end]``; ``glued`` when only
    punctuation or symbols separate it from the word before ("fu.ck", "sca-m")."""

    start: int
    end: int
    glued: bool = False


def _is_glue(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "PS"


def _trim(chars: list[str], token: Token) -> Token:
    start, end = token.start, token.end
    while start < end and chars[start] in _EDGE_PUNCTUATION:
        start += 1
    while end > start and chars[end - 1] in _EDGE_PUNCTUATION:
        end -= 1
    return Token(start, end, token.glued)


class FoldedText:
    """A comment folded for matching, with a map back to the original characters."""

    def __init__(self, text: str) -> None:
        self.original = text
        chars: list[str] = []
        origin: list[int] = []
        tokens: list[Token] = []
        start: int | None = None
        gap_is_glue = glued = False  # punctuation only since the last word's end
        for index, ch in enumerate(text):
            for c in fold_char(ch):
                if _is_word_char(c) and not is_cjk(c):
                    if start is None:
                        start, glued = len(chars), gap_is_glue
                    chars.append(c)
                    origin.append(index)
                    continue
                if start is not None:
                    tokens.append(Token(start, len(chars), glued))
                    start, gap_is_glue = None, True
                if not _is_glue(c):
                    gap_is_glue = False
                if is_cjk(c):
                    chars.append(c)
                    origin.append(index)
        if start is not None:
            tokens.append(Token(start, len(chars), glued))
        # Leet symbols at a word's edges are punctuation ("wow!"): drop them entirely.
        keep = [True] * len(chars)
        trimmed = [_trim(chars, token) for token in tokens]
        for token, inner in zip(tokens, trimmed, strict=True):
            for index in [*range(token.start, inner.start), *range(inner.end, token.end)]:
                keep[index] = False
        position = [0] * (len(chars) + 1)
        for index, kept in enumerate(keep):
            position[index + 1] = position[index] + kept
        self.origin = [o for o, kept in zip(origin, keep, strict=True) if kept]
        self.compact = "".join(_LEET.get(c, c) for c, kept in zip(chars, keep, strict=True) if kept)
        self.tokens = _renumber(trimmed, position)

    def word(self, token: Token) -> str:
        return self.compact[token.start : token.end]

    @cached_property
    def words(self) -> list[Token]:
        """The tokens, plus runs of spaced-out single letters joined ("f u c k" -> "fuck"),
        plus up to ``GLUED_WORDS`` glued tokens joined ("fu.ck" -> "fuck")."""
        joined: list[Token] = []
        run: list[Token] = []
        for token in [*self.tokens, Token(-1, -1)]:
            if token.end - token.start == 1:
                run.append(token)
                continue
            if len(run) >= 3:
                joined.append(Token(run[0].start, run[-1].end))
            run = []
        tokens = self.tokens
        for first, token in enumerate(tokens):
            last = first + 1
            while last < len(tokens) and last - first < GLUED_WORDS and tokens[last].glued:
                joined.append(Token(token.start, tokens[last].end))
                last += 1
        return tokens + joined

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original text's span behind ``compact[start:end]``."""
        return self.origin[start], self.origin[end - 1] + 1


# How many tokens glued by punctuation are tried as one word: a bounded window keeps the
# work linear however long a run of "a.a.a.a" is.
GLUED_WORDS = 4


def _renumber(trimmed: list[Token], position: list[int]) -> list[Token]:
    """Tokens in compact positions, empty ones dropped; a word stays glued to the one before
    when every token dropped between them was glued too."""
    kept: list[Token] = []
    bridge = True
    for token in trimmed:
        if token.end <= token.start:
            bridge = bridge and token.glued
            continue
        glued = token.glued and bridge and bool(kept)
        kept.append(Token(position[token.start], position[token.end], glued))
        bridge = True
    return kept


_RUNS = re.compile(r"(.)\1{2,}")


def squeezed(word: str) -> set[str]:
    """Spellings of an elongated word: "fuuuuck" -> {"fuuuuck", "fuck", "fuuck"}."""
    if not _RUNS.search(word):
        return {word}
    return {word, _RUNS.sub(r"\1", word), _RUNS.sub(r"\1\1", word)}


def fold_term(term: str) -> str:
    """A list entry folded the way comments are, separators removed."""
    return FoldedText(term).compact


SKETCH_SIZE = 64  # bottom-k MinHash: the 64 smallest shingle hashes
BINS = 64  # one-permutation MinHash bins, for the LSH band keys
BAND_ROWS = 4  # bins per band: 16 bands
SHINGLE = 3
_EMPTY = -1
# Shingle hashes are keyed BLAKE2b, 63 bits (stored in MongoDB as signed 64-bit integers).
# MinHash assumes a hash that orders shingles like a random permutation; CRC32 is linear
# and 32 bits, so similar shingles get related values and sketches collide or skew.
_HASH_KEY = b"chorus-minhash-shingles-v2"
_BAND_KEY = b"chorus-minhash-bands-v2"
_VALUE_BITS = 63
_BAND_BITS = 56  # a band key is (band index << 56) | a 56-bit hash of its rows
_DENSIFY_SHIFT = _VALUE_BITS - 6  # above the largest bin value (63 bits // 64 bins)


def shingle_hash(shingle: str) -> int:
    """A 63-bit keyed hash of one shingle: the MinHash permutation."""
    digest = hashlib.blake2b(
        shingle.encode("utf-8", "surrogatepass"), digest_size=8, key=_HASH_KEY
    ).digest()
    return int.from_bytes(digest, "big") >> (64 - _VALUE_BITS)


def _band_key(band: int, rows: list[int]) -> int:
    data = b"".join(value.to_bytes(9, "big", signed=True) for value in rows)
    digest = hashlib.blake2b(data, digest_size=_BAND_BITS // 8, key=_BAND_KEY).digest()
    return (band << _BAND_BITS) | int.from_bytes(digest, "big")


def fingerprint(folded: FoldedText) -> Fingerprint:
    """Exact digest of the compact text; a bottom-k MinHash sketch of its 3-shingles (for
    estimating similarity); and LSH band keys from a one-permutation MinHash of the same
    hashes (for finding candidates: similar texts almost surely share a band key)."""
    compact = folded.compact
    digest = hashlib.sha256(compact.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    if len(compact) <= SHINGLE:
        shingles = {compact}
    else:
        shingles = {compact[i : i + SHINGLE] for i in range(len(compact) - SHINGLE + 1)}
    hashes = sorted({shingle_hash(s) for s in shingles})
    bins = [_EMPTY] * BINS
    for value in hashes:  # ascending, so the first value a bin sees is its minimum
        if bins[value % BINS] == _EMPTY:
            bins[value % BINS] = value // BINS
    _densify(bins)
    bands = tuple(
        _band_key(band, bins[start : start + BAND_ROWS])
        for band, start in enumerate(range(0, BINS, BAND_ROWS))
    )
    return Fingerprint(digest=digest, sketch=tuple(hashes[:SKETCH_SIZE]), bands=bands)


def _densify(bins: list[int]) -> None:
    """Fill each empty bin from the next filled one, so every band depends on several
    shingles (a band of one common shingle would match too many texts)."""
    size = len(bins)
    if all(value == _EMPTY for value in bins):
        return
    source = list(bins)
    for index in range(size):
        distance = 0
        while source[(index + distance) % size] == _EMPTY:
            distance += 1
        if distance:
            bins[index] = source[(index + distance) % size] + (distance << _DENSIFY_SHIFT)


class Resemblance:
    """Compares one fingerprint with many: estimated Jaccard similarity of shingle sets."""

    def __init__(self, fingerprint: Fingerprint) -> None:
        self.fingerprint = fingerprint
        self.hashes = frozenset(fingerprint.sketch)

    def to(self, other: Fingerprint, at_least: float = 0.0) -> float:
        """The similarity to ``other``; 0.0 when it cannot reach ``at_least``."""
        if other.digest == self.fingerprint.digest:
            return 1.0
        shared = self.hashes.intersection(other.sketch)
        if not shared:
            return 0.0
        union_size = min(SKETCH_SIZE, len(self.hashes) + len(other.sketch) - len(shared))
        if len(shared) / union_size < at_least:  # an upper bound of the estimate below
            return 0.0
        union = sorted(self.hashes.union(other.sketch))[:SKETCH_SIZE]
        return sum(1 for h in union if h in shared) / len(union)


def similarity(a: Fingerprint, b: Fingerprint) -> float:
    """Estimated Jaccard similarity of the two texts' shingle sets."""
    return Resemblance(a).to(b)
