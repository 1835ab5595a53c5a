"""The pipeline: a source's stages run in order, and their verdicts make one decision.

- ``reject`` stops at once: the comment is rejected by that stage.
- ``hold`` is remembered (the first one) and the stages go on, so a later stage may still
  reject, and redaction still happens before a held comment can be approved.
- ``transform`` replaces the text for the stages after it (redaction, censoring).
- ``pass`` goes on; the trust stage's ``trusted_author`` pass waives holds made before it.
An approved comment's decision names the trust stage if it waived holds, else the last
stage that changed the text (redacted, censored), else ``pipeline``/``clean``.
A stage that fails holds the comment: a broken rule must never publish anything.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from moderation.model import (
    Comment,
    Decision,
    ModerationContext,
    Source,
    StageResult,
    held,
)
from moderation.rules import (
    ClassifierSpec,
    DuplicateSpec,
    FloodSpec,
    ModerationRules,
    PiiSpec,
    SizeSpec,
    SpamSpec,
    TrustSpec,
    WordsSpec,
)
from moderation.stages import Stage, Subject
from moderation.stages.classifier import ClassifierStage
from moderation.stages.duplicate import DuplicateStage
from moderation.stages.flood import FloodStage
from moderation.stages.pii import PiiStage
from moderation.stages.size import SizeStage
from moderation.stages.spam import SpamStage
from moderation.stages.trust import TRUSTED, TrustStage
from moderation.stages.words import WordsStage

log = logging.getLogger(__name__)

STAGES: dict[type[Any], Callable[[Any], Stage]] = {
    SizeSpec: SizeStage,
    FloodSpec: FloodStage,
    DuplicateSpec: DuplicateStage,
    SpamSpec: SpamStage,
    WordsSpec: WordsStage,
    PiiSpec: PiiStage,
    TrustSpec: TrustStage,
    ClassifierSpec: ClassifierStage,
}


class Pipeline:
    """The compiled rules: one list of stages per source, and the rules' version."""

    def __init__(self, rules: ModerationRules) -> None:
        self.rules = rules
        self.version = rules.version
        self.stages: dict[Source, list[Stage]] = {
            "web": [STAGES[type(spec)](spec) for spec in rules.web],
            "social": [STAGES[type(spec)](spec) for spec in rules.social],
        }

    async def run(self, comment: Comment, context: ModerationContext) -> Decision:
        subject = Subject(comment, comment.text)
        trail: list[StageResult] = []
        hold: StageResult | None = None
        waived_by: StageResult | None = None
        changed_by: StageResult | None = None
        for stage in self.stages[comment.source]:
            result = await self._check(stage, subject, context)
            trail.append(result)
            if result.action == "reject":
                return self._decide("rejected", result, subject, trail)
            if result.action == "hold" and hold is None:
                hold = result
            elif result.action == "transform" and result.text is not None:
                subject = subject.with_text(result.text)
                if result.reason != "normalized":
                    changed_by = result
            elif result.action == "pass" and result.reason == TRUSTED and hold is not None:
                hold, waived_by = None, result
        if hold is not None:
            return self._decide("held", hold, subject, trail)
        return self._decide("approved", waived_by or changed_by, subject, trail)

    async def _check(
        self, stage: Stage, subject: Subject, context: ModerationContext
    ) -> StageResult:
        try:
            return await stage.check(subject, context)
        except Exception as exc:
            log.exception("moderation stage failed", extra={"stage": stage.name})
            return held(stage.name, "stage_error", error=type(exc).__name__)

    def _decide(
        self, status: Any, result: StageResult | None, subject: Subject, trail: list[StageResult]
    ) -> Decision:
        return Decision(
            status=status,
            stage=result.stage if result else "pipeline",
            reason=result.reason if result else "clean",
            text=subject.text,
            rules_version=self.version,
            fingerprint=subject.fingerprint,
            trail=tuple(trail),
        )
