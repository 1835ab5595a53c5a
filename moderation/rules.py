"""The moderation rules: per source, an ordered list of stages, each with its settings.

Rules are data (config.yaml's ``moderation.rules``, or a version an admin stored through
the API). Their ``version`` is a digest of their content, so a decision names exactly the
rules that made it.
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from moderation.model import Source

PiiAction = Literal["redact", "hold", "reject", "off"]


def _stage_required(schema: dict[str, Any]) -> None:
    # ``stage`` picks the settings' shape, so a client must name it (its default is for
    # code that builds a stage directly).
    if "stage" in schema.get("properties", {}):
        schema["required"] = sorted({*schema.get("required", []), "stage"})


# The largest count or length a rule may set: far above any useful setting, and within
# what the stored rules document (BSON int64) and the matchers built from it can hold.
MAX_COUNT = 2**31 - 1


class Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra=_stage_required)


class SizeSpec(Spec):
    """Size and encoding: reject control characters and lone surrogates, NFKC-normalize."""

    stage: Literal["size"] = "size"
    min_chars: int = Field(default=1, ge=1, le=MAX_COUNT)
    max_chars: int = Field(default=5000, ge=1, le=MAX_COUNT)
    max_lines: int = Field(default=100, ge=1, le=MAX_COUNT)


class Limit(Spec):
    count: int = Field(ge=1, le=MAX_COUNT)
    window_seconds: float = Field(gt=0)


class FloodSpec(Spec):
    """At most ``count`` comments per window, per author and per client address (or none)."""

    stage: Literal["flood"] = "flood"
    per_author: Limit = Limit(count=5, window_seconds=60)
    per_address: Limit | None = Limit(count=10, window_seconds=60)


class DuplicateSpec(Spec):
    """Exact and near duplicates among the comments of the recent window."""

    stage: Literal["duplicate"] = "duplicate"
    window_seconds: float = Field(default=86_400, gt=0)
    max_candidates: int = Field(default=50, ge=1, le=1000)
    min_chars: int = Field(default=12, ge=1, le=MAX_COUNT)  # a Chinese character counts three
    near_threshold: float = Field(default=0.7, gt=0, le=1)
    exact_action: Literal["reject", "hold"] = "reject"
    near_action: Literal["reject", "hold", "pass"] = "hold"


DEFAULT_SPAM_PATTERNS = (
    "buy now", "click here", "free money", "make money fast", "work from home",
    "casino", "viagra", "cialis", "crypto giveaway", "double your bitcoin",
    "limited offer", "earn $$$", "100% free", "weight loss pills",
    "加微信", "加qq", "代开发票", "免费领取", "点击链接", "日赚", "网赚", "博彩",
)  # fmt: skip


class SpamSpec(Spec):
    """Spam signals (links, known phrases, shouting, repeated characters), scored."""

    stage: Literal["spam"] = "spam"
    max_links: int = Field(default=2, ge=0, le=MAX_COUNT)
    link_score: float = Field(default=1.0, ge=0)
    pattern_score: float = Field(default=2.0, ge=0)
    patterns: tuple[str, ...] = DEFAULT_SPAM_PATTERNS
    caps_ratio: float = Field(default=0.7, gt=0, le=1)
    caps_min_letters: int = Field(default=12, ge=1, le=MAX_COUNT)
    caps_score: float = Field(default=1.0, ge=0)
    repeat_run: int = Field(default=6, ge=2, le=1000)  # a regex repeat count
    repeat_score: float = Field(default=1.0, ge=0)
    hold_score: float = Field(default=2.0, gt=0)
    reject_score: float = Field(default=3.0, gt=0)


DEFAULT_BLOCK = (
    "fuck*", "motherfuck*", "cunt*", "nigger*", "faggot*", "kill yourself", "kys",
    "傻逼", "操你妈", "草泥马", "去死吧", "狗娘养的",
)  # fmt: skip
DEFAULT_HOLD = ("idiot*", "stupid", "moron*", "scam*", "fraud*", "垃圾", "骗子", "白痴")
DEFAULT_CENSOR = ("shit*", "bullshit*", "damn*", "crap*", "asshole*", "bitch*", "他妈的", "妈的")


class WordsSpec(Spec):
    """Word lists: ``block`` rejects, ``hold`` holds, ``censor`` masks the word.

    A Latin entry matches whole words (``word*`` also matches words starting with it);
    an entry with spaces or Chinese characters matches anywhere, separators ignored.
    """

    stage: Literal["words"] = "words"
    block: tuple[str, ...] = DEFAULT_BLOCK
    hold: tuple[str, ...] = DEFAULT_HOLD
    censor: tuple[str, ...] = DEFAULT_CENSOR
    mask: str = Field(default="*", min_length=1, max_length=1)


class PiiSpec(Spec):
    """Personal data: what to do on an email, a phone number, a (Luhn-valid) card number."""

    stage: Literal["pii"] = "pii"
    emails: PiiAction = "redact"
    phones: PiiAction = "redact"
    cards: PiiAction = "redact"
    phone_min_digits: int = Field(default=8, ge=5, le=15)


class TrustSpec(Spec):
    """Author trust: ``auto_approve_after`` approvals by a person and no rejection, under
    the same trust key, waive earlier holds."""

    stage: Literal["trust"] = "trust"
    auto_approve_after: int = Field(default=3, ge=1, le=MAX_COUNT)
    hold_new_authors: bool = False
    hold_after_rejections: int = Field(default=0, ge=0, le=MAX_COUNT)  # 0: never


class ClassifierSpec(Spec):
    """An external classifier's score: hold or reject above thresholds; failure holds."""

    stage: Literal["classifier"] = "classifier"
    hold_score: float = Field(default=0.5, ge=0, le=1)
    reject_score: float = Field(default=0.95, ge=0, le=1)
    timeout_seconds: float = Field(default=2.0, gt=0)


StageSpec = Annotated[
    SizeSpec
    | FloodSpec
    | DuplicateSpec
    | SpamSpec
    | WordsSpec
    | PiiSpec
    | TrustSpec
    | ClassifierSpec,
    Field(discriminator="stage"),
]


def default_web() -> tuple[StageSpec, ...]:
    return (
        SizeSpec(),
        FloodSpec(),
        DuplicateSpec(),
        SpamSpec(),
        WordsSpec(),
        PiiSpec(),
        TrustSpec(),
    )


def default_social() -> tuple[StageSpec, ...]:
    # Social posts come from accounts the platform knows; their address is not ours to see.
    return (
        SizeSpec(max_chars=2000),
        FloodSpec(per_address=None),
        DuplicateSpec(),
        SpamSpec(),
        WordsSpec(),
        PiiSpec(),
        TrustSpec(),
    )


class ModerationRules(Spec):
    """The pipelines per comment source."""

    web: tuple[StageSpec, ...] = Field(default_factory=default_web, max_length=32)
    social: tuple[StageSpec, ...] = Field(default_factory=default_social, max_length=32)

    def pipeline(self, source: Source) -> tuple[StageSpec, ...]:
        return self.web if source == "web" else self.social

    @property
    def version(self) -> str:
        """A digest of the rules' content: equal rules, equal version."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()[:12]
