"""Tokenization for matching customer questions: English words and Chinese words.

English is lowercased, stripped of stopwords and stemmed with the Snowball (Porter 2)
English stemmer, so "orders" finds "order", "shipping" finds "ship" and "changes" finds
"change". Chinese has no spaces, so CJK runs are segmented with jieba (its dictionary ships
with the package: nothing is downloaded). jieba builds its prefix dictionary once per
process (about a second); ``prepare`` does that off the event loop at start-up.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata

import jieba
import snowballstemmer

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")

ENGLISH_STOPWORDS = frozenset(
    """a an the and or but if of at by for with about to from in on into over is are was were
    be been being am do does did doing have has had having i me my we our you your he she it
    its they them their this that these those what which who whom how when where why can could
    would should will shall may might must please hi hello hey there just so than too very
    s t don't can't i'm it's any some get want need like know tell help yet still already
    hasn't haven't isn't doesn't didn't won't""".split()  # noqa: SIM905 - a word list reads best
)
CHINESE_STOPWORDS = frozenset(
    "的 了 吗 呢 吧 啊 我 你 您 他 她 它 我们 你们 是 在 有 和 就 都 也 要 想 请 请问 一下 怎么 如何 什么 么 你好 您好".split()  # noqa: SIM905, E501
)

_ready = threading.Lock()
_initialised = False


def prepare() -> None:
    """Load jieba's dictionary quietly (idempotent; safe to call from a worker thread)."""
    global _initialised
    with _ready:
        if not _initialised:
            jieba.setLogLevel(logging.WARNING)
            jieba.initialize()
            _initialised = True


# Snowball stemmers keep no state between calls but are not documented as thread-safe,
# and tokenize runs in worker threads too: one per thread.
_stemmers = threading.local()


def stem(word: str) -> str:
    """The Snowball English stem of ``word`` (a lower-case word)."""
    stemmer = getattr(_stemmers, "english", None)
    if stemmer is None:
        stemmer = _stemmers.english = snowballstemmer.stemmer("english")
    result: str = stemmer.stemWord(word)
    return result


def tokenize(text: str) -> list[str]:
    """Terms of ``text`` for retrieval: stemmed English words and segmented Chinese words."""
    normalized = unicodedata.normalize("NFKC", text).lower().replace("’", "'")
    terms: list[str] = []
    for run in _WORD.findall(normalized):
        if _CJK.match(run):
            prepare()
            terms.extend(
                word for word in jieba.lcut(run) if word.strip() and word not in CHINESE_STOPWORDS
            )
        elif run not in ENGLISH_STOPWORDS:
            terms.append(stem(run))
    return terms


def language_of(text: str) -> str:
    """The customer's language as the knowledge base names it: a question with Chinese
    characters is Chinese, any other is English (the two languages the bot answers in)."""
    return "zh" if _CJK.search(text) else "en"


def contains_phrase(text: str, phrases: list[str]) -> str | None:
    """The first of ``phrases`` found in ``text``: whole words for English, a substring for
    Chinese (which has no word boundaries)."""
    normalized = unicodedata.normalize("NFKC", text).lower().replace("’", "'")
    for phrase in phrases:
        wanted = unicodedata.normalize("NFKC", phrase).lower().strip()
        if not wanted:
            continue
        if _CJK.search(wanted):
            if wanted in normalized:
                return phrase
        elif re.search(rf"(?<![a-z0-9]){re.escape(wanted)}(?![a-z0-9])", normalized):
            return phrase
    return None
