"""Tweet length by the twitter-text rules, checked against its conformance data.

The cases are a representative set from the weighted-length sections of twitter-text's
``conformance/validate.yml`` (v3 configuration: emoji sequences weigh 2, URLs 23, text is
NFC-normalized first); the library used does not ship that file, so the inputs and the
expected weights are written out here.
"""

from __future__ import annotations

import pytest

from adapters.twitter.outbound import split_thread, weighted_length

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"
ENGLAND = "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"
CJK_160 = (
    "故人西辞黄鹤楼，烟花三月下扬州。孤帆远影碧空尽，唯见长江天际流。"
    "朱雀桥边野草花，乌衣巷口夕阳斜。旧时王谢堂前燕，飞入寻常百姓家。"
    "朝辞白帝彩云间，千里江陵一日还。两岸猿声啼不住，轻舟已过万重山。"
    "泪湿罗巾梦不成，夜深前殿按歌声。红颜未老恩先断，斜倚薰笼坐到明。"
    "独在异乡为异客，每逢佳节倍思亲。遥知兄弟登高处，遍插茱萸少一人。"
)

CONFORMANCE = [
    pytest.param("This is a test.", 15, id="latin"),
    pytest.param("http://test.com", 23, id="http-url"),
    pytest.param("test.com", 23, id="url-without-protocol"),
    pytest.param("Test https://test.com test https://test.com test.com test", 86, id="three-urls"),
    pytest.param("https://www.twitter.com/aloha " * 10, 240, id="ten-urls"),
    pytest.param("285 chars-" + "xxxxxxxxxx-" * 25, 285, id="285-chars"),
    pytest.param(CJK_160, 320, id="160-cjk"),
    pytest.param("😷" * 160, 320, id="160-emoji"),
    pytest.param(FAMILY * 140, 280, id="140-family-emoji"),
    pytest.param("A\u0301B", 2, id="nfc-a-acute"),
    pytest.param(f"Unicode 10.0 emoji: 🤪; 🧕; 🧕🏾; {ENGLAND}", 34, id="unicode-10-emoji"),
    pytest.param("Unicode 9.0 emoji: 🤠; 💃; 💃🏾", 29, id="unicode-9-emoji"),
    pytest.param(
        "r" + "andomurlrandomurlrandomurlrandomurlrandomurlrandomurlrandomurls.com",
        68,
        id="64-char-label-is-no-url",
    ),
]


@pytest.mark.parametrize(("text", "expected"), CONFORMANCE)
def test_weighted_length_follows_twitter_text_conformance(text: str, expected: int) -> None:
    assert weighted_length(text) == expected


def test_a_bare_domain_is_a_link_and_weighs_23() -> None:
    # Counted as 11 characters before, X counts 27: a part near the limit was refused.
    assert weighted_length("see acme.co") == 4 + 23


def test_parts_with_bare_domains_and_emoji_fit_as_x_counts_them() -> None:
    text = " ".join(["visit acme.co"] * 40 + [FAMILY] * 40)
    parts = split_thread(text)
    assert len(parts) > 1
    assert all(weighted_length(part) <= 280 for part in parts)
    assert " ".join(part.rsplit(" ", 1)[0] for part in parts) == text
