"""The rules in force: config.yaml's until an admin stores others, then the stored ones.

Every hub instance checks the stored pointer at most every ``refresh_seconds``, so a rules
change made through one instance reaches the others without a restart.
"""

from __future__ import annotations

import logging
import time
from typing import Literal

from pydantic import ValidationError

from hub.domain import utcnow
from moderation import ModerationRules, Pipeline
from storage.comments import CommentStore

log = logging.getLogger(__name__)

RulesOrigin = Literal["config", "stored"]


class RulesInForce:
    """Holds the compiled pipeline and swaps it when the stored rules change."""

    def __init__(self, store: CommentStore, configured: ModerationRules, refresh_seconds: float):
        self.store = store
        self.configured = Pipeline(configured)
        self.pipeline = self.configured
        self.origin: RulesOrigin = "config"
        self.refresh_seconds = refresh_seconds
        self._checked_at = float("-inf")

    async def current(self) -> Pipeline:
        if time.monotonic() - self._checked_at >= self.refresh_seconds:
            await self.reload()
        return self.pipeline

    async def reload(self) -> Pipeline:
        """Read the stored pointer now and switch to the rules it names."""
        self._checked_at = time.monotonic()
        version = await self.store.current_rules_version()
        if version is None:
            self.pipeline, self.origin = self.configured, "config"
        elif version != self.pipeline.version:
            doc = await self.store.load_rules(version)
            try:
                rules = ModerationRules.model_validate(doc["rules"] if doc else None)
            except ValidationError:
                log.exception("stored moderation rules are invalid", extra={"version": version})
                return self.pipeline
            self.pipeline, self.origin = Pipeline(rules), "stored"
        return self.pipeline

    async def replace(self, rules: ModerationRules, by: str) -> Pipeline:
        """Store ``rules`` as the rules in force (for every instance) and use them here now."""
        pipeline = Pipeline(rules)
        await self.store.save_rules(pipeline.version, rules.model_dump(mode="json"), by, utcnow())
        self.pipeline, self.origin = pipeline, "stored"
        self._checked_at = time.monotonic()
        log.info("moderation rules replaced", extra={"version": pipeline.version, "by": by})
        return pipeline
