"""Matching questions to knowledge entries: ranking, Chinese text, the confidence threshold."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.bot.knowledge import KnowledgeFileError, load_knowledge_files
from hub.bot.retrieval import KnowledgeIndex
from hub.bot.text import contains_phrase, stem, tokenize
from hub.config.model import BotConfig
from hub.domain import KnowledgeEntry

ROOT = Path(__file__).resolve().parents[3]
SAMPLE = ROOT / "knowledge" / "faq.yaml"
THRESHOLD = BotConfig().confidence_threshold


@pytest.fixture(scope="module")
def index() -> KnowledgeIndex:
    return KnowledgeIndex(load_knowledge_files([SAMPLE]))


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("How long does shipping take?", "shipping-time"),
        ("when will my orders arrive", "shipping-time"),
        ("Where is my package?", "order-status"),
        ("I want to return my shoes", "returns"),
        ("forgot my password", "reset-password"),
        ("can I pay with PayPal?", "payment-methods"),
        ("我想退货", "zh-returns"),
        ("我的快递什么时候到", "zh-shipping-time"),
        ("可以用支付宝吗", "zh-payment"),
    ],
)
def test_questions_find_their_entry_above_the_threshold(
    index: KnowledgeIndex, question: str, expected: str
) -> None:
    match = index.answer(question, THRESHOLD)
    assert match is not None, index.search(question)
    assert match.entry.id == expected
    assert 0 < match.confidence <= 1


@pytest.mark.parametrize(
    "question",
    [
        "what is the capital of France",
        "Do you sell gift cards?",
        "今天天气怎么样",
        "hello",
        "",
    ],
)
def test_the_bot_does_not_guess_below_the_threshold(index: KnowledgeIndex, question: str) -> None:
    assert index.answer(question, THRESHOLD) is None


def test_ranking_puts_the_closest_wording_first(index: KnowledgeIndex) -> None:
    matches = index.search("When does my order arrive?", limit=3)
    assert [m.entry.id for m in matches][:2] == ["shipping-time", "order-status"]
    assert matches[0].score > matches[1].score
    assert matches[0].confidence > matches[1].confidence


def test_exact_wording_is_fully_confident_and_extra_words_lower_it(index: KnowledgeIndex) -> None:
    exact = index.search("How do I reset my password?")[0]
    padded = index.search("How do I reset my password, my cat walked on the keyboard")[0]
    assert exact.entry.id == padded.entry.id == "reset-password"
    assert exact.confidence == pytest.approx(1.0)
    assert padded.confidence < exact.confidence


def test_a_higher_threshold_refuses_a_partial_match(index: KnowledgeIndex) -> None:
    match = index.answer("I want to return my shoes", THRESHOLD)
    assert match is not None
    assert index.answer("I want to return my shoes", match.confidence + 0.01) is None


def test_english_and_chinese_tokens() -> None:
    assert tokenize("Where are my Orders?") == ["order"]
    assert tokenize("Tracking parcels") == ["track", "parcel"]
    assert tokenize("我想退货") == ["退货"]
    assert "订单" in tokenize("我的订单在哪里")
    assert tokenize("hello there!") == []
    assert stem("address") == "address" and stem("boxes") == "box"


def test_phrases_match_whole_english_words_and_chinese_substrings() -> None:
    phrases = ["agent", "human", "人工"]
    assert contains_phrase("Human please!", phrases) == "human"
    assert contains_phrase("我要人工服务", phrases) == "人工"
    assert contains_phrase("my travel agency lost it", phrases) is None
    assert contains_phrase("humane society", phrases) is None


def test_an_empty_index_finds_nothing() -> None:
    assert KnowledgeIndex([]).search("anything") == []


def test_entries_rank_by_their_best_wording() -> None:
    entries = [
        KnowledgeEntry(id="a", questions=["billing address change"], answer="A"),
        KnowledgeEntry(id="b", questions=["unrelated words", "change billing address"], answer="B"),
    ]
    matches = KnowledgeIndex(entries).search("change billing address")
    assert {m.entry.id for m in matches} == {"a", "b"}
    assert all(m.confidence == pytest.approx(1.0) for m in matches)


def test_knowledge_files_are_validated(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("entries:\n  - id: x\n    questions: []\n    answer: a\n")
    with pytest.raises(KnowledgeFileError, match=r"bad\.yaml"):
        load_knowledge_files([bad])
    with pytest.raises(KnowledgeFileError, match="not found"):
        load_knowledge_files([tmp_path / "missing.yaml"])
    twice = tmp_path / "twice.yaml"
    twice.write_text("entries:\n  - {id: x, questions: [q], answer: a}\n")
    with pytest.raises(KnowledgeFileError, match="defined twice"):
        load_knowledge_files([twice, twice])
    loaded = load_knowledge_files([SAMPLE])
    assert all(entry.source == "file" for entry in loaded)
    assert any(any("\u4e00" <= ch <= "\u9fff" for ch in e.answer) for e in loaded)


@pytest.mark.parametrize(
    ("a", "b"),
    [("change", "changes"), ("ship", "shipping"), ("house", "houses"), ("deliver", "delivered")],
)
def test_inflected_forms_share_a_stem(a: str, b: str) -> None:
    assert tokenize(a) == tokenize(b)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("changes?", "address"),  # the entry says "change"
        ("shipping abroad", "abroad"),  # the entry says "ship"
        ("houses", "rural"),  # the entry says "house"
    ],
)
def test_a_question_finds_the_entry_worded_with_another_form(question: str, expected: str) -> None:
    entries = [
        KnowledgeEntry(id="address", questions=["How do I change my address?"], answer="A"),
        KnowledgeEntry(id="abroad", questions=["Do you ship to other countries?"], answer="B"),
        KnowledgeEntry(id="rural", questions=["Do you deliver to a house far away?"], answer="C"),
        KnowledgeEntry(id="returns", questions=["How do I return an item?"], answer="D"),
    ]
    matches = KnowledgeIndex(entries).search(question)
    assert matches and matches[0].entry.id == expected, matches
