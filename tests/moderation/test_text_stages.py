"""Table-driven tests of the stages that look at the text alone: size, words, spam, PII."""

from __future__ import annotations

import pytest

from bench.moderation import generate
from moderation.rules import PiiSpec, SizeSpec, SpamSpec, WordsSpec
from moderation.stages.pii import luhn_valid
from moderation.text import FoldedText
from tests.helpers.moderation import check

SIZE = [
    ("hello", "pass", "ok", None),
    ("", "reject", "empty", None),
    ("   \n\t ", "reject", "empty", None),
    ("a" * 5001, "reject", "too_long", None),
    ("\n".join("x" * 101), "reject", "too_many_lines", None),
    ("nul\x00byte", "reject", "control_characters", None),
    ("bell\x07", "reject", "control_characters", None),
    ("bidi \u202eevil", "reject", "control_characters", None),
    ("lone \ud800 surrogate", "reject", "invalid_encoding", None),
    ("ｆｕｌｌ ｗｉｄｔｈ", "transform", "normalized", "full width"),
    ("line\r\nbreak", "transform", "normalized", "line\nbreak"),
    ("zero\u200bwidth", "transform", "normalized", "zerowidth"),
    ("ﬁne ligature", "transform", "normalized", "fine ligature"),
    ("  padded  ", "transform", "normalized", "padded"),
    ("这个产品很好用", "pass", "ok", None),
    ("emoji 👍🏽 family 👨‍👩‍👧", "pass", "ok", None),
]


@pytest.mark.parametrize(("text", "action", "reason", "new_text"), SIZE)
async def test_size_and_encoding(text: str, action: str, reason: str, new_text: str | None) -> None:
    result = await check(SizeSpec(), text)
    assert (result.action, result.reason) == (action, reason)
    assert result.text == new_text


WORDS = [
    # clear abuse, however disguised
    ("fuck you", "reject", "banned_word"),
    ("F U C K you", "reject", "banned_word"),
    ("f.u.c.k this", "reject", "banned_word"),
    ("ｆｕｃｋ ｙｏｕ", "reject", "banned_word"),
    ("fuсk you", "reject", "banned_word"),  # Cyrillic с
    ("fück off", "reject", "banned_word"),
    ("what the fuuuuuck", "reject", "banned_word"),
    ("fuck1ng useless", "reject", "banned_word"),
    ("FUCKING useless", "reject", "banned_word"),
    ("just k y s", "reject", "banned_word"),
    ("k i l l   y o u r s e l f", "reject", "banned_word"),
    ("你是傻逼", "reject", "banned_word"),
    ("你是傻 逼", "reject", "banned_word"),
    ("你是傻*逼", "reject", "banned_word"),
    ("操 你 妈", "reject", "banned_word"),
    ("草泥马!", "reject", "banned_word"),
    # borderline: held for a human
    ("you idiot", "hold", "watched_word"),
    ("what an 1d10t", "hold", "watched_word"),
    ("total sc4m", "hold", "watched_word"),
    ("this is a SCAM", "hold", "watched_word"),
    ("垃圾产品", "hold", "watched_word"),
    ("客服是骗子", "hold", "watched_word"),
    # clean, including words that contain listed ones
    ("Scunthorpe is a lovely town", "pass", "ok"),
    ("a classic assessment of the class", "pass", "ok"),
    ("as soon as possible", "pass", "ok"),
    ("my skills and assets", "pass", "ok"),
    ("I shipped it to Essex", "pass", "ok"),
    ("这个产品很好用，推荐", "pass", "ok"),
    ("I scored 3 out of 5!", "pass", "ok"),
    ("wow!!! great", "pass", "ok"),
]


# Disguises an outside review found approved: invisible characters (format characters,
# the combining grapheme joiner, a Hangul filler), punctuation inside a word, and letters
# of other scripts that look Latin (Unicode TR39 confusables).
BYPASSES = [
    ("fu\u034fck you", "reject", "banned_word"),
    ("f\u2061uck", "reject", "banned_word"),
    ("fu\u180eck", "reject", "banned_word"),
    ("fu\u200eck", "reject", "banned_word"),
    ("f\u3164uck", "reject", "banned_word"),
    ("f\uffa0uck", "reject", "banned_word"),
    ("fu\ufe0fck", "reject", "banned_word"),
    ("fu.ck", "reject", "banned_word"),
    ("fu-ck", "reject", "banned_word"),
    ("what the fu_ck", "reject", "banned_word"),
    ("go f.u.ck yourself", "reject", "banned_word"),
    ("sca.m", "hold", "watched_word"),
    ("what a sc\u0430m", "hold", "watched_word"),  # Cyrillic а
    ("f\u057dck off", "reject", "banned_word"),  # Armenian ս for u
    ("st\u057dpid idea", "hold", "watched_word"),
    ("total sc\u0251m", "hold", "watched_word"),  # Latin alpha
    ("\u13da\u13bb\u13a5\u13a2", "transform", "censored"),  # Cherokee letters for "shit"
]
# Clean text full of punctuation inside words, and of other scripts: none may match.
CLEAN = [
    "e.g. the U.S.A. edition, well-made and re-usable",
    "it's a 5-star, as-is offer from Mr.Smith",
    "see www.example.com/help or docs.example.org",
    "a.m. or p.m., whichever suits",
    "Scunthorpe, Essex and Sussex",
    "Отличный магазин, быстрая доставка",
    "Πολύ καλό προϊόν",
    "Շատ լավ ապրանք",
    "这个产品很好用。物流很快，包装也不错！",
    "質問：サイズは？ 한국어 리뷰입니다",
]


def _clean_corpus() -> list[str]:
    generated = [c.text for kind, c in generate(2000, seed=7) if kind == "clean"]
    listed = [text for text, action, _ in WORDS if action == "pass"]
    return CLEAN + listed + generated


async def test_no_false_positives_on_the_clean_corpus() -> None:
    flagged = []
    for text in _clean_corpus():
        result = await check(WordsSpec(), text)
        if result.action != "pass":
            flagged.append((text, result.reason, result.detail))
    assert flagged == []


def test_chinese_text_folds_to_itself() -> None:
    text = "这个产品很好用推荐给朋友丨一口"
    assert FoldedText(text).compact == text


@pytest.mark.parametrize(("text", "action", "reason"), WORDS + BYPASSES)
async def test_word_lists(text: str, action: str, reason: str) -> None:
    result = await check(WordsSpec(), text)
    assert (result.action, result.reason) == (action, reason), result.detail


CENSOR = [
    ("this is bullshit", "this is ********"),
    ("sh1t happens", "**** happens"),
    ("Ѕhit happens", "**** happens"),  # Cyrillic Ѕ
    ("shiiiit, late again", "*******, late again"),
    ("s h i t", "* * * *"),
    ("这个他妈的太贵了", "这个***太贵了"),
]


@pytest.mark.parametrize(("text", "masked"), CENSOR)
async def test_censored_words_are_masked_in_place(text: str, masked: str) -> None:
    result = await check(WordsSpec(), text)
    assert (result.action, result.reason, result.text) == ("transform", "censored", masked)


async def test_word_list_settings_are_used() -> None:
    spec = WordsSpec(block=["widget*"], hold=[], censor=[], mask="#")
    assert (await check(spec, "W1DGETS are bad")).action == "reject"
    assert (await check(spec, "fuck")).action == "pass"


SPAM = [
    ("see http://a.com http://b.com http://c.com", "reject", "too_many_links"),
    ("buy now and click here", "reject", "spam"),
    ("click here: http://x.example.com", "reject", "spam"),
    ("B U Y  N O W", "hold", "possible_spam"),
    ("THIS IS AMAZING!!!!!!!!", "hold", "possible_spam"),
    ("加微信领取", "hold", "possible_spam"),
    ("加 微 信，日赚千元", "reject", "spam"),
    ("see the manual at www.example.com", "pass", "ok"),
    ("THIS IS THE BEST PRODUCT EVER", "pass", "ok"),
    ("soooo good", "pass", "ok"),
    ("包装很好，物流很快", "pass", "ok"),
]


@pytest.mark.parametrize(("text", "action", "reason"), SPAM)
async def test_spam_heuristics(text: str, action: str, reason: str) -> None:
    result = await check(SpamSpec(), text)
    assert (result.action, result.reason) == (action, reason), result.detail


PII = [
    ("mail me at bob.smith+x@example.co.uk", "mail me at [email removed]"),
    ("bob (at) example (dot) com", "[email removed]"),
    ("call +1 415-555-0123 today", "call [phone removed] today"),
    ("call (415) 555-0123", "call [phone removed]"),
    ("我的电话是13812345678谢谢", "我的电话是[phone removed]谢谢"),
    ("邮箱abc@qq.com谢谢", "邮箱[email removed]谢谢"),
    ("card 4111 1111 1111 1111 exp 12/29", "card [card removed] exp 12/29"),
    ("card 4111-1111-1111-1111", "card [card removed]"),
    ("card ４１１１１１１１１１１１１１１１", "card [card removed]"),
]


@pytest.mark.parametrize(("text", "redacted"), PII)
async def test_personal_data_is_redacted(text: str, redacted: str) -> None:
    result = await check(PiiSpec(), text)
    assert (result.action, result.reason, result.text) == ("transform", "redacted", redacted)


@pytest.mark.parametrize(
    "text",
    [
        "meeting on 2024-01-15 at 10",
        "order 12345 arrived",
        "it cost 1,299.00 dollars",
        "card 4111 1111 1111 1112 failed",  # not Luhn-valid, and too long for a phone
        "rated 5/5",
        "hello @team.",
    ],
)
async def test_things_that_are_not_personal_data_are_left_alone(text: str) -> None:
    assert (await check(PiiSpec(), text)).action == "pass"


async def test_pii_actions_are_configurable() -> None:
    result = await check(PiiSpec(emails="hold"), "write to a@b.example")
    assert (result.action, result.reason) == ("hold", "pii_emails")
    result = await check(PiiSpec(cards="reject"), "4111111111111111")
    assert (result.action, result.reason) == ("reject", "pii_cards")
    assert (await check(PiiSpec(emails="off"), "a@b.example")).action == "pass"


@pytest.mark.parametrize(
    ("number", "valid"),
    [("4111111111111111", True), ("5500005555555559", True), ("4111111111111112", False)],
)
def test_luhn(number: str, valid: bool) -> None:
    assert luhn_valid(number) is valid
