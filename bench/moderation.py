"""Throughput of the default moderation pipeline on a mixed corpus, on one core.

The corpus is generated here (seeded): clean reviews, spam, abuse (plain and disguised),
borderline remarks, personal data and duplicates, in English and Chinese. The context is
the in-memory one, so the figure is the pipeline's own cost, without database round trips.

    python -m bench.moderation [--count 20000] [--seed 7]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from moderation import Comment, ModerationRules, Pipeline
from moderation.memory import MemoryContext

EN_SUBJECTS = [
    "The blender",
    "This jacket",
    "My order",
    "The courier",
    "Support",
    "The app",
    "The battery",
    "This kettle",
    "The packaging",
    "The size guide",
    "Checkout",
]
EN_VERBS = ["arrived", "works", "looks", "feels", "performed", "held up", "turned out"]
EN_DETAILS = [
    "better than expected",
    "exactly as described",
    "a bit late but fine",
    "great after a week of use",
    "fine for the price",
    "quieter than my old one",
    "sturdy and well made",
    "easy to set up",
    "smaller than I thought",
]
EN_ENDINGS = [
    "",
    " Would buy again.",
    " Thanks!",
    " Five stars.",
    " Recommended to friends.",
    " The colour is lovely.",
    " Delivery took {n} days.",
]
ZH_SUBJECTS = ["这款吸尘器", "这件外套", "我的订单", "快递", "客服", "这个应用", "电池", "包装"]
ZH_DETAILS = [
    "质量很好",
    "和描述一致",
    "稍微有点慢但还行",
    "用了一周很满意",
    "性价比很高",
    "比我以前的安静",
    "做工结实",
    "安装很简单",
    "比想象的小一点",
]
ZH_ENDINGS = ["", "，会再买。", "，谢谢！", "，五星好评。", "，推荐给朋友。", "，{n}天就到了。"]
SPAM = [
    "BUY NOW!!! cheap watches at http://deals{n}.example.ru",
    "Make money fast, work from home, click here www.earn{n}.example.top",
    "Crypto giveaway: double your bitcoin at http://x{n}.example.xyz http://y.example.xyz",
    "加微信 领取免费红包，日赚{n}元 点击链接 http://hb{n}.example.cn",
    "100% free viagra and cialis, limited offer",
]
ABUSE = [
    "fuck you and your shop",
    "F U C K this company",
    "ｆｕｃｋｉｎｇ scammers",
    "what a fuuuuck",
    "fuсk off",
    "just kys",
    "你们是傻逼",
    "操 你 妈",
    "草泥马的客服",
]
BORDERLINE = [
    "the courier was an idiot",
    "honestly a bit of a scam",
    "stupid design choice",
    "客服是骗子吗",
    "包装就是垃圾",
]
_EN_VOCABULARY = (
    "quick light heavy warm soft loud quiet bright dark cheap solid fragile handy compact roomy "
    "smooth rough fresh crisp sharp blunt neat tidy messy clever simple kitchen garden office "
    "travel winter summer gift weekend morning evening daily zipper handle lid strap cable "
    "charger screen button pocket sole seam filter"
)
EN_WORDS = _EN_VOCABULARY.split()
ZH_WORDS = list(
    "轻重暖软响静亮暗便宜结实易碎方便小巧宽敞顺滑粗糙新鲜清脆锋利整齐简单厨房花园办公旅行"
    "冬夏礼物周末早晚每天拉链把手盖子带子线充电器屏幕按钮口袋鞋底缝过滤"
)
PII = [
    "Call me on +1 415-555-{n:04d} about the refund",
    "My email is buyer{n}@example.com",
    "Charge card 4111 1111 1111 1111 again please",
    "我的电话是138{n:08d}，请联系我",
    "Refund to 5500 0055 5555 5559, contact me at me{n}@example.org",
]


def generate(count: int, seed: int) -> list[tuple[str, Comment]]:
    rng = random.Random(seed)
    start = datetime(2026, 5, 1, tzinfo=UTC)
    corpus: list[tuple[str, Comment]] = []
    clean: list[str] = []
    for index in range(count):
        n = rng.randrange(10_000)
        roll = rng.random()
        if roll < 0.45 or not clean:
            kind = "clean"
            if rng.random() < 0.6:
                text = (
                    f"{rng.choice(EN_SUBJECTS)} {rng.choice(EN_VERBS)} "
                    f"{rng.choice(EN_DETAILS)}.{rng.choice(EN_ENDINGS)} "
                ).format(n=n % 9 + 1)
                text += " ".join(rng.sample(EN_WORDS, rng.randrange(3, 7))) + "."
            else:
                text = (
                    rng.choice(ZH_SUBJECTS) + rng.choice(ZH_DETAILS) + rng.choice(ZH_ENDINGS)
                ).format(n=n % 9 + 1)
                text += "".join(rng.sample(ZH_WORDS, rng.randrange(4, 9))) + "。"
            clean.append(text)
        elif roll < 0.58:
            kind, text = "spam", rng.choice(SPAM).format(n=n)
        elif roll < 0.68:
            kind, text = "abusive", rng.choice(ABUSE)
        elif roll < 0.75:
            kind, text = "borderline", rng.choice(BORDERLINE)
        elif roll < 0.87:
            kind, text = "pii", rng.choice(PII).format(n=n)
        else:
            kind = "duplicate"
            text = rng.choice(clean[-200:])
            text = text.upper() if rng.random() < 0.5 else text.replace(" ", "  ")
        author = f"author-{rng.randrange(count // 4 + 1)}"
        address = f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}"
        received = start + timedelta(seconds=index * 0.5)
        corpus.append((kind, Comment(text, "web", author, received, address=address)))
    return corpus


async def run(corpus: list[tuple[str, Comment]]) -> tuple[float, float, Counter[tuple[str, ...]]]:
    pipeline = Pipeline(ModerationRules())
    context = MemoryContext()
    counts: Counter[tuple[str, ...]] = Counter()
    wall, cpu = time.perf_counter(), time.process_time()
    for index, (kind, comment) in enumerate(corpus):
        decision = await pipeline.run(comment, context)
        context.record(str(index), comment, decision)
        counts[(kind, decision.status, decision.stage, decision.reason)] += 1
    return time.perf_counter() - wall, time.process_time() - cpu, counts


WORST_CASE = "a." * 2497 + "xyz"  # once quadratic in the email pattern: ~1 s a comment
NORMAL = "The blender arrived quickly and crushes ice without any trouble. Would buy again."


async def per_comment(text: str, repeat: int) -> float:
    """Seconds of CPU per comment for ``text``, each with a fresh history."""
    pipeline = Pipeline(ModerationRules())
    start = datetime(2026, 5, 1, tzinfo=UTC)
    cpu = time.process_time()
    for index in range(repeat):
        comment = Comment(text, "web", f"worst-{index}", start, address="10.0.0.1")
        await pipeline.run(comment, MemoryContext())
    return (time.process_time() - cpu) / repeat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    corpus = generate(args.count, args.seed)
    wall, cpu, counts = asyncio.run(run(corpus))
    print(f"moderation pipeline (default rules, version {ModerationRules().version})")
    print(f"comments: {len(corpus)}  wall: {wall:.2f}s  cpu: {cpu:.2f}s")
    print(f"throughput: {len(corpus) / cpu:,.0f} comments/second per core (CPU time)")
    statuses: Counter[str] = Counter()
    for (_, status, _, _), n in counts.items():
        statuses[status] += n
    print("decisions: " + ", ".join(f"{s} {statuses[s]}" for s in ("approved", "held", "rejected")))
    print(f"\n{'corpus kind':<11} {'decision':<9} {'stage':<10} {'reason':<20} count")
    for (kind, status, stage, reason), n in sorted(counts.items()):
        print(f"{kind:<11} {status:<9} {stage:<10} {reason:<20} {n}")
    normal = asyncio.run(per_comment(NORMAL, 200))
    worst = asyncio.run(per_comment(WORST_CASE, 20))
    print(f"\n{'input':<34} {'chars':>6} {'ms/comment':>11}")
    print(f"{'normal comment (baseline)':<34} {len(NORMAL):>6} {normal * 1e3:>11.3f}")
    label = 'worst case "a." * 2497 + "xyz"'
    print(f"{label:<34} {len(WORST_CASE):>6} {worst * 1e3:>11.3f}")
    chars = len(WORST_CASE) / len(NORMAL)
    print(f"worst case / normal: x{worst / normal:.1f} (for x{chars:.0f} the characters)")


if __name__ == "__main__":
    main()
