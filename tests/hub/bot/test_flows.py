"""The bot's conversation rules, turn by turn, without I/O."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from hub.bot.flows import (
    CUSTOMER_REQUEST,
    LOW_CONFIDENCE,
    NEGATIVE_RATING,
    ExternalAnswer,
    Session,
    capture_email,
    decide,
    describe_opening,
    next_opening,
    parse_rating,
)
from hub.bot.retrieval import Match
from hub.config.model import BotConfig, BusinessHoursConfig
from hub.domain import KnowledgeEntry

# Wednesday 2026-01-07, 12:00 UTC
WEDNESDAY_NOON = datetime(2026, 1, 7, 12, 0, tzinfo=UTC)
ENTRY = KnowledgeEntry(
    id="returns", questions=["How do I return an item?"], answer="Within 30 days."
)
MATCH = Match(ENTRY, score=3.0, confidence=0.9, question=ENTRY.questions[0])


def config(**hours: object) -> BotConfig:
    return BotConfig(business_hours=BusinessHoursConfig(**hours)) if hours else BotConfig()


def test_first_contact_is_greeted_and_answered_in_one_turn() -> None:
    turn = decide("how to return", Session(), config(), match=MATCH, now=WEDNESDAY_NOON)
    assert turn.replies == [BotConfig().greeting, "Within 30 days."]
    assert turn.answered == "returns" and turn.handoff is None
    assert turn.session.greeted and turn.session.last_answer == "returns"


def test_a_first_hello_gets_the_greeting_alone_and_is_no_miss() -> None:
    turn = decide("hi!", Session(), config(), match=None, now=WEDNESDAY_NOON, small_talk=True)
    assert turn.replies == [BotConfig().greeting]
    assert turn.session.misses == 0


def test_two_unanswered_turns_in_a_row_hand_off() -> None:
    cfg = config()
    first = decide("gift cards?", Session(greeted=True), cfg, match=None, now=WEDNESDAY_NOON)
    assert first.replies == [cfg.fallback_message] and first.handoff is None
    second = decide("vouchers?", first.session, cfg, match=None, now=WEDNESDAY_NOON)
    assert second.handoff == LOW_CONFIDENCE
    assert second.replies == [cfg.handoff_message]
    assert second.session.misses == 0


def test_an_answer_between_misses_resets_the_count() -> None:
    cfg = config()
    miss = decide("gift cards?", Session(greeted=True), cfg, match=None, now=WEDNESDAY_NOON)
    hit = decide("return?", miss.session, cfg, match=MATCH, now=WEDNESDAY_NOON)
    again = decide("vouchers?", hit.session, cfg, match=None, now=WEDNESDAY_NOON)
    assert again.handoff is None and again.session.misses == 1


@pytest.mark.parametrize("text", ["human please", "Can I talk to an AGENT?", "转人工"])
def test_asking_for_a_person_hands_off_at_once(text: str) -> None:
    turn = decide(text, Session(greeted=True), config(), match=MATCH, now=WEDNESDAY_NOON)
    assert turn.handoff == CUSTOMER_REQUEST
    assert turn.answered is None


def test_saying_a_bot_answer_did_not_help_hands_off() -> None:
    answered = Session(greeted=True, last_answer="returns")
    turn = decide("that was not helpful", answered, config(), match=None, now=WEDNESDAY_NOON)
    assert turn.handoff == NEGATIVE_RATING
    # Without a bot answer before it, the same words are just an unanswered turn.
    turn = decide(
        "that was not helpful", Session(greeted=True), config(), match=None, now=WEDNESDAY_NOON
    )
    assert turn.handoff is None


def test_external_answers_replace_the_knowledge_base() -> None:
    external = ExternalAnswer(messages=("From Rasa",), handoff=False)
    turn = decide(
        "x", Session(greeted=True), config(), match=None, now=WEDNESDAY_NOON, external=external
    )
    assert turn.replies == ["From Rasa"] and turn.handoff is None
    handing = ExternalAnswer(messages=(), handoff=True)
    turn = decide(
        "x", Session(greeted=True), config(), match=None, now=WEDNESDAY_NOON, external=handing
    )
    assert turn.handoff == "external_bot" and turn.replies == [BotConfig().handoff_message]


def test_handoff_outside_business_hours_says_when_humans_are_back_and_asks_for_email() -> None:
    cfg = config(
        enabled=True, timezone="Europe/Berlin", days=["mon", "tue"], open=time(9), close=time(17)
    )
    turn = decide("human", Session(greeted=True), cfg, match=None, now=WEDNESDAY_NOON)
    assert turn.handoff == CUSTOMER_REQUEST
    assert "on Monday at 09:00 (Europe/Berlin)" in turn.replies[-1]
    assert turn.session.awaiting_email
    saved = capture_email("sure: Ada@Example.org thanks", turn.session, cfg)
    assert saved is not None and saved.email == "ada@example.org"
    assert not saved.session.awaiting_email
    assert capture_email("no email here", turn.session, cfg) is None


def test_next_opening() -> None:
    hours = BusinessHoursConfig(enabled=True, days=["mon", "wed"], open=time(9), close=time(17))
    assert next_opening(hours, WEDNESDAY_NOON) is None  # open now
    evening = WEDNESDAY_NOON.replace(hour=18)
    assert next_opening(hours, evening) == datetime(2026, 1, 12, 9, 0, tzinfo=UTC)
    morning = WEDNESDAY_NOON.replace(hour=7)
    opening = next_opening(hours, morning)
    assert opening == datetime(2026, 1, 7, 9, 0, tzinfo=UTC)
    assert describe_opening(opening, morning, "UTC") == "today at 09:00 (UTC)"
    assert next_opening(BusinessHoursConfig(enabled=False), evening) is None
    tuesday = datetime(2026, 1, 6, 20, 0, tzinfo=UTC)
    assert (
        describe_opening(next_opening(hours, tuesday), tuesday, "UTC") == "tomorrow at 09:00 (UTC)"
    )


@pytest.mark.parametrize(
    ("text", "score"),
    [
        ("5", 5),
        (" 1 ", 1),
        ("4/5", 4),
        ("3 stars", 3),
        ("6", None),
        ("5 please call me", None),
        ("great", None),
    ],
)
def test_ratings_are_a_lone_number_from_1_to_5(text: str, score: int | None) -> None:
    assert parse_rating(text) == score


def test_session_round_trips_through_a_document() -> None:
    session = Session(
        greeted=True, misses=1, awaiting_email=True, last_answer="x", rating_pending=True
    )
    assert Session.from_doc({"_id": "c", **session.to_doc(), "updated_at": 1}) == session


def test_the_sample_config_documents_the_bot_defaults() -> None:
    from pathlib import Path

    from hub.config.model import ChorusConfig, ConfigError, load_config
    from hub.config.paths import anchor_defaults

    root = Path(__file__).resolve().parents[3]
    defaults = ChorusConfig()
    anchor_defaults(defaults, root)  # the sample's relative paths are relative to its folder
    assert load_config(root / "config.yaml", environ={}).bot == defaults.bot
    with pytest.raises(ConfigError, match=r"bot\.business_hours\.timezone"):
        load_config(None, environ={"CHORUS_BOT__BUSINESS_HOURS__TIMEZONE": "Mars/Olympus"})
