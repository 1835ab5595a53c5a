"""An external classifier's opinion. Whatever goes wrong holds; it never approves alone."""

from __future__ import annotations

import asyncio
import math

from moderation.model import ModerationContext, StageResult, held, passed, rejected
from moderation.rules import ClassifierSpec
from moderation.stages import Subject


class ClassifierStage:
    name = "classifier"

    def __init__(self, spec: ClassifierSpec) -> None:
        self.spec = spec

    async def check(self, subject: Subject, context: ModerationContext) -> StageResult:
        classify = context.classifier
        if classify is None:
            return held(self.name, "classifier_unavailable", error="not configured")
        try:
            async with asyncio.timeout(self.spec.timeout_seconds):
                result = await classify(subject.comment, subject.text)
        except TimeoutError:
            return held(self.name, "classifier_unavailable", error="timeout")
        except Exception as exc:  # any failure of a remote service must hold, not crash
            return held(self.name, "classifier_unavailable", error=type(exc).__name__)
        score = result.score
        if not isinstance(score, int | float) or math.isnan(score) or not 0 <= score <= 1:
            return held(self.name, "classifier_unavailable", error="invalid score")
        detail = {"score": score, "labels": list(result.labels)}
        if score >= self.spec.reject_score:
            return rejected(self.name, "classifier_abusive", **detail)
        if score >= self.spec.hold_score:
            return held(self.name, "classifier_borderline", **detail)
        return passed(self.name, "ok", **detail)
