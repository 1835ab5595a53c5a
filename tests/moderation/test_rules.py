"""The rules as configured: the shipped config.yaml holds the built-in defaults."""

from __future__ import annotations

from pathlib import Path

from hub.config.model import load_config
from hub.http.rate_limit import AddressBuckets
from moderation import ModerationRules
from moderation.rules import TrustSpec

ROOT = Path(__file__).resolve().parents[2]


def test_shipped_config_holds_the_default_rules() -> None:
    config = load_config(ROOT / "config.yaml", environ={})
    assert config.moderation.rules == ModerationRules()
    assert config.moderation.rules.version == ModerationRules().version


def test_rules_version_follows_content() -> None:
    changed = ModerationRules(web=(TrustSpec(hold_new_authors=True),))
    assert changed.version != ModerationRules().version
    assert changed.version == ModerationRules.model_validate(changed.model_dump()).version


def test_address_buckets_refill_and_forget_the_oldest() -> None:
    buckets = AddressBuckets(capacity=2, refill_per_second=1.0, max_addresses=100)
    assert buckets.take("a", now=0) == 0 and buckets.take("a", now=0) == 0
    assert buckets.take("a", now=0) == 1.0  # one second until the next token
    assert buckets.take("b", now=0) == 0  # addresses do not share a bucket
    assert buckets.take("a", now=1.0) == 0
    small = AddressBuckets(capacity=1, refill_per_second=0.001, max_addresses=100)
    for n in range(101):
        small.take(f"10.0.0.{n}", now=0)
    assert small.take("10.0.0.0", now=0) == 0  # forgotten, so a fresh bucket
