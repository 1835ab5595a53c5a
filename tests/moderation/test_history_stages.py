"""Stages that look at the past: flood, duplicates, author trust; and the classifier."""

from __future__ import annotations

import asyncio
import math

import pytest

from moderation import ClassifierResult, Comment
from moderation.memory import MemoryContext
from moderation.rules import ClassifierSpec, DuplicateSpec, FloodSpec, Limit, TrustSpec
from tests.helpers.moderation import check, remember

REVIEW = "The blender arrived quickly and crushes ice without any trouble at all."


async def test_author_flood_rejects_the_comment_over_the_limit() -> None:
    context = MemoryContext()
    await remember(context, *(f"comment number {n} about the product" for n in range(5)))
    result = await check(FloodSpec(), "one more", context, at=10)
    assert (result.action, result.reason) == ("reject", "author_flood")
    assert result.detail == {"sent": 5, "limit": 5}
    # a minute later the window has passed
    assert (await check(FloodSpec(), "one more", context, at=70)).action == "pass"


async def test_address_flood_counts_every_author_at_that_address() -> None:
    context = MemoryContext()
    for n in range(3):
        await remember(context, f"hello from sock puppet {n}", author=f"puppet-{n}", start=n)
    spec = FloodSpec(per_address=Limit(count=3, window_seconds=60))
    result = await check(spec, "and another", context, author="puppet-9", at=5)
    assert (result.action, result.reason) == ("reject", "address_flood")
    other = await check(spec, "hi", context, author="puppet-9", at=5, address="203.0.113.9")
    assert other.action == "pass"
    assert (
        await check(FloodSpec(per_address=None), "hi", context, author="x", at=5)
    ).action == "pass"


DUPLICATES = [
    (REVIEW, "reject", "duplicate"),
    (REVIEW.upper().replace(" ", "  "), "reject", "duplicate"),
    (
        "The blender arrived quickly and crushes ice without any trouble at all!!",
        "reject",
        "duplicate",
    ),
    (
        "The blender arrived quickly and crushes ice without much trouble at all.",
        "hold",
        "near_duplicate",
    ),
    ("The kettle broke after two days and support never answered my emails.", "pass", "ok"),
    ("Thanks!", "pass", "too_short_to_compare"),
]


@pytest.mark.parametrize(("text", "action", "reason"), DUPLICATES)
async def test_duplicates_over_the_recent_window(text: str, action: str, reason: str) -> None:
    context = MemoryContext()
    await remember(context, REVIEW, "Thanks!", author="someone-else")
    result = await check(DuplicateSpec(), text, context, at=60)
    assert (result.action, result.reason) == (action, reason), result.detail
    if action != "pass":
        assert result.detail["of"] == "someone-else-0"


async def test_chinese_near_duplicates_are_found() -> None:
    context = MemoryContext()
    original = "这款吸尘器吸力很强，噪音也不大，电池可以用一个小时，非常满意，推荐购买。"
    await remember(context, original, author="a")
    near = "这款吸尘器吸力很强，噪音也不大，电池可以用一个小时，很满意，推荐购买！"
    assert (await check(DuplicateSpec(), near, context, at=5)).reason == "near_duplicate"
    assert (await check(DuplicateSpec(), original, context, at=5)).reason == "duplicate"


async def test_duplicates_older_than_the_window_are_forgotten() -> None:
    context = MemoryContext()
    await remember(context, REVIEW, author="a")
    spec = DuplicateSpec(window_seconds=3600)
    assert (await check(spec, REVIEW, context, at=3599)).action == "reject"
    assert (await check(spec, REVIEW, context, at=3601)).action == "pass"


FINE = [
    "Arrived on time, works as described.",
    "The colour is a little darker than in the photos.",
    "Second one I bought; still happy with it.",
    "Customer service answered within the hour.",
    "Battery lasts about two days of normal use.",
]
TRUST = [
    (TrustSpec(), 3, 0, "pass", "trusted_author"),
    (TrustSpec(), 2, 0, "pass", "ok"),
    (TrustSpec(), 5, 1, "pass", "ok"),
    (TrustSpec(hold_new_authors=True), 0, 0, "hold", "new_author"),
    (TrustSpec(hold_new_authors=True), 1, 0, "pass", "ok"),
    (TrustSpec(hold_after_rejections=2), 4, 2, "hold", "author_rejected_before"),
]


@pytest.mark.parametrize(("spec", "approved", "rejected", "action", "reason"), TRUST)
async def test_author_trust(
    spec: TrustSpec, approved: int, rejected: int, action: str, reason: str
) -> None:
    context = MemoryContext()
    await remember(context, *FINE[:approved], author="me", reviewed=True)
    await remember(context, *(f"fuck item {n}" for n in range(rejected)), author="me", start=100)
    result = await check(spec, "hello", context, author="me", at=500)
    assert (result.action, result.reason) == (action, reason)


async def test_automatic_approvals_earn_no_trust() -> None:
    """Three clean comments under a fresh identity, then a held insult: still held."""
    context = MemoryContext()
    await remember(context, *FINE[:3], author="fresh")
    result = await check(TrustSpec(), "hello", context, author="fresh", at=500)
    assert (result.action, result.reason) == ("pass", "ok")
    assert result.detail == {"approved": 0, "rejected": 0}


async def test_a_poster_without_a_trust_key_inherits_no_trust() -> None:
    context = MemoryContext()
    await remember(context, *FINE[:3], author="regular", reviewed=True)
    mine = await check(TrustSpec(), "hello", context, author="regular", at=500)
    assert mine.reason == "trusted_author"
    claimed = await check(TrustSpec(), "hello", context, author="regular", trust_key=None)
    assert (claimed.reason, claimed.detail) == ("ok", {"approved": 0, "rejected": 0})


def classifier_answering(score: float):
    async def classify(comment: Comment, text: str) -> ClassifierResult:
        return ClassifierResult(score=score, labels=("toxicity",))

    return classify


async def failing(comment: Comment, text: str) -> ClassifierResult:
    raise ConnectionError("classifier down")


async def never_answers(comment: Comment, text: str) -> ClassifierResult:
    await asyncio.Event().wait()
    raise AssertionError("unreachable")


CLASSIFIER = [
    (classifier_answering(0.1), "pass", "ok"),
    (classifier_answering(0.6), "hold", "classifier_borderline"),
    (classifier_answering(0.99), "reject", "classifier_abusive"),
    (classifier_answering(math.nan), "hold", "classifier_unavailable"),
    (classifier_answering(7.0), "hold", "classifier_unavailable"),
    (failing, "hold", "classifier_unavailable"),
    (never_answers, "hold", "classifier_unavailable"),
    (None, "hold", "classifier_unavailable"),
]


@pytest.mark.parametrize(("classify", "action", "reason"), CLASSIFIER)
async def test_classifier_failures_hold_and_never_approve(
    classify, action: str, reason: str
) -> None:
    context = MemoryContext(classifier=classify)
    result = await check(ClassifierSpec(timeout_seconds=0.05), "some text", context)
    assert (result.action, result.reason) == (action, reason)
