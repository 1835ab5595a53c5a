"""Every pattern the hub runs on untrusted text takes time linear in the text's length, and
the pipeline lets the event loop run while it works on a long comment.

Linear is shown by scaling, not by a stopwatch limit: the cost of an input four times as
long must stay well under sixteen times the cost (what a quadratic pattern shows)."""

from __future__ import annotations

import asyncio
import gc
import re
import time
from collections.abc import Callable

import pytest

from hub.core.addresses import _CANDIDATE as CHAT_EMAIL
from moderation import ModerationRules, Pipeline
from moderation.memory import MemoryContext
from moderation.rules import SpamSpec
from moderation.stages.pii import CARD, EMAIL, PHONE
from moderation.stages.spam import LINK, SpamStage
from moderation.text import _RUNS, FoldedText
from tests.helpers.moderation import comment

# The short input's repetitions; the long one has four times as many. Small enough for
# the long text to stay in the processor's cache, which would otherwise add a step.
N = 400
LINEAR_BOUND = 8.0  # linear gives ~4, quadratic ~16

WORST_CASES = [
    "a.",
    "a",
    "a@",
    "a@a.",
    "a.a@",
    "a (at) ",
    "a@a (dot) ",
    "x-",
    "a..",
    "-a.",
    "1 ",
    "1-",
    "(1",
    "+1 ",
    "1.",
    "aaaaab",
    "aab",
    "http://",
    "www.",
]


def _cost(run: Callable[[str], object], text: str) -> float:
    """The best of several timings in CPU time (worker threads included), so a busy machine
    does not count; the garbage collector is paused, as its passes grow with every object
    alive, not with the text."""
    best = float("inf")
    gc.disable()
    try:
        for _ in range(5):
            start = time.process_time()
            for _ in range(4):
                run(text)
            best = min(best, time.process_time() - start)
    finally:
        gc.enable()
    return best


def _ratio(run: Callable[[str], object], unit: str, tail: str) -> float:
    """How much longer four times the input takes: the lowest of three measurements, since
    a pause of the machine can only make one look worse, never better."""
    ratios = []
    for _ in range(3):
        short = _cost(run, unit * N + tail)
        long = _cost(run, unit * (4 * N) + tail)
        ratios.append(long / max(short, 1e-7))
        if ratios[-1] < LINEAR_BOUND:
            break
    return min(ratios)


def _finder(pattern: re.Pattern[str]) -> Callable[[str], object]:
    # Counting, not listing: thousands of kept match objects would add a garbage
    # collector's cost that grows faster than the text.
    return lambda text: sum(1 for _ in pattern.finditer(text))


PATTERNS = {
    "pii.EMAIL": EMAIL,
    "pii.CARD": CARD,
    "pii.PHONE": PHONE,
    "spam.LINK": LINK,
    "spam.repeat": SpamStage(SpamSpec()).repeat,
    "text.RUNS": _RUNS,
    "bot.EMAIL (hub.core.addresses)": CHAT_EMAIL,
}


@pytest.mark.parametrize("name", sorted(PATTERNS))
@pytest.mark.parametrize("unit", WORST_CASES)
@pytest.mark.parametrize("tail", ["", "xyz", "1"])
def test_patterns_take_linear_time(name: str, unit: str, tail: str) -> None:
    ratio = _ratio(_finder(PATTERNS[name]), unit, tail)
    assert ratio < LINEAR_BOUND, f"{name} on {unit!r}*n+{tail!r}: x{ratio:.1f} for 4n"


@pytest.mark.parametrize("unit", ["a.", "f.u.", "a\u200b", "sс.", "x-", "傻.", "1 "])
def test_folding_takes_linear_time(unit: str) -> None:
    assert _ratio(FoldedText, unit, "xyz") < LINEAR_BOUND


def test_the_pipeline_takes_linear_time_on_the_reported_input() -> None:
    pipeline = Pipeline(ModerationRules())

    def run(text: str) -> object:
        return asyncio.run(pipeline.run(comment(text), MemoryContext()))

    assert _ratio(run, "a.", "xyz") < LINEAR_BOUND


async def test_the_loop_runs_while_a_long_comment_is_moderated() -> None:
    """A ticker counts the loop's turns while one worst-case comment is moderated: inline
    matching would give it none until the decision."""
    turns = 0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal turns
        while not done.is_set():
            turns += 1
            await asyncio.sleep(0)

    async def moderate() -> str:
        decision = await Pipeline(ModerationRules()).run(
            comment("a." * 2497 + "xyz"), MemoryContext()
        )
        seen = turns
        done.set()
        return f"{decision.status}:{seen}"

    ticking = asyncio.create_task(ticker())
    status, seen = (await moderate()).split(":")
    await ticking
    assert status in {"approved", "held", "rejected"}
    assert int(seen) > 5


def test_hosts_after_punctuation_still_count_as_links() -> None:
    """Starting only where a host name can start must not lose the ones after dots."""
    assert len(LINK.findall("see --foo.com, ...bar.com and a..b.io")) == 3
