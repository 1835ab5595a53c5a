"""The bot's conversation rules, as a pure function of one customer turn.

Greeting on first contact; business hours (outside them: say when humans are back and ask
for an email); handoff when the customer asks for a person, after too many turns the bot
could not answer, or when the customer says a bot answer did not help.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hub.bot.retrieval import Match
from hub.bot.text import contains_phrase
from hub.config.model import BotConfig, BusinessHoursConfig
from hub.core.addresses import find_email

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
RATING = re.compile(r"^\s*([1-5])\s*(?:/\s*5|stars?|星)?\s*[.!]?\s*$", re.IGNORECASE)

# Handoff reasons, as recorded on the transition and counted by the bot metrics.
CUSTOMER_REQUEST = "customer_request"
LOW_CONFIDENCE = "low_confidence"
NEGATIVE_RATING = "negative_rating"
EXTERNAL_BOT = "external_bot"


@dataclass(frozen=True, slots=True)
class Session:
    """What the bot remembers of one conversation between turns."""

    greeted: bool = False
    misses: int = 0
    awaiting_email: bool = False
    last_answer: str | None = None
    rating_pending: bool = False

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Session:
        return cls(**{k: doc[k] for k in cls.__dataclass_fields__ if k in doc})

    def to_doc(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass(frozen=True, slots=True)
class ExternalAnswer:
    """What an external bot said: messages to send and whether to hand off."""

    messages: tuple[str, ...] = ()
    handoff: bool = False


@dataclass(frozen=True, slots=True)
class Turn:
    """The bot's decision for one customer message."""

    session: Session
    replies: list[str] = field(default_factory=list)
    handoff: str | None = None
    email: str | None = None
    answered: str | None = None


def next_opening(hours: BusinessHoursConfig, now: datetime) -> datetime | None:
    """None while humans are in; otherwise when they are next (in the configured zone)."""
    if not hours.enabled:
        return None
    zone = ZoneInfo(hours.timezone)
    local = now.astimezone(zone)
    days = set(hours.days)
    if WEEKDAYS[local.weekday()] in days and hours.open <= local.time() < hours.close:
        return None
    for offset in range(8):
        day = (local + timedelta(days=offset)).date()
        if WEEKDAYS[day.weekday()] not in days:
            continue
        opening = datetime.combine(day, hours.open, tzinfo=zone)
        if opening > local:
            return opening
    return None  # pragma: no cover - days is never empty


def describe_opening(opening: datetime, now: datetime, timezone: str) -> str:
    """``today at 09:00 (UTC)``, ``tomorrow at …`` or ``on Monday at …``."""
    days_ahead = (opening.date() - now.astimezone(opening.tzinfo).date()).days
    when = {0: "today", 1: "tomorrow"}.get(days_ahead, f"on {DAY_NAMES[opening.weekday()]}")
    return f"{when} at {opening:%H:%M} ({timezone})"


def parse_rating(text: str) -> int | None:
    found = RATING.match(text)
    return int(found.group(1)) if found else None


def decide(
    text: str,
    session: Session,
    config: BotConfig,
    *,
    match: Match | None,
    now: datetime,
    external: ExternalAnswer | None = None,
    small_talk: bool = False,
) -> Turn:
    """The bot's answer to ``text`` given what it remembers and what it found.

    ``small_talk`` says the text has nothing to search for ("hello"): on first contact the
    greeting answers it and it does not count as a turn the bot could not answer.
    """
    replies: list[str] = []
    first_contact = not session.greeted
    if first_contact:
        replies.append(config.greeting)
        session = replace(session, greeted=True)
    handoff: str | None = None
    answered: str | None = None
    if contains_phrase(text, config.handoff_phrases):
        handoff = CUSTOMER_REQUEST
    elif session.last_answer and contains_phrase(text, config.negative_feedback_phrases):
        handoff = NEGATIVE_RATING
    elif external is not None:
        replies.extend(external.messages)
        handoff = EXTERNAL_BOT if external.handoff else None
        session = replace(session, misses=0)
    elif match is not None:
        replies.append(match.entry.reply_text())
        answered = match.entry.id
        session = replace(session, misses=0)
    elif not (first_contact and small_talk):
        misses = session.misses + 1
        session = replace(session, misses=misses)
        if misses >= config.low_confidence_turns:
            handoff = LOW_CONFIDENCE
        else:
            replies.append(config.fallback_message)
    session = replace(session, last_answer=answered)
    if handoff is not None:
        opening = next_opening(config.business_hours, now)
        if opening is not None:
            back = describe_opening(opening, now, config.business_hours.timezone)
            replies.append(config.business_hours.closed_message.format(back=back))
            session = replace(session, awaiting_email=True)
        elif not (external and external.messages):
            replies.append(config.handoff_message)
        session = replace(session, misses=0, last_answer=None)
    return Turn(session=session, replies=replies, handoff=handoff, answered=answered)


def capture_email(text: str, session: Session, config: BotConfig) -> Turn | None:
    """While the bot waits for an email address: take it from ``text`` if there is one."""
    if not session.awaiting_email:
        return None
    email = find_email(text)
    if email is None:
        return None
    reply = config.business_hours.email_saved_message.format(email=email)
    return Turn(session=replace(session, awaiting_email=False), replies=[reply], email=email)
