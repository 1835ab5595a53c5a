"""Comment moderation pipeline: pure logic, text and metadata in, verdict out.

Nothing here touches MongoDB or HTTP: what the pipeline needs to know about the past it
asks through ``ModerationContext``, which the hub implements.
"""

from moderation.model import (
    AuthorRecord,
    Classifier,
    ClassifierResult,
    Comment,
    Decision,
    Fingerprint,
    ModerationContext,
    PriorComment,
    Source,
    StageResult,
    Status,
)
from moderation.pipeline import Pipeline
from moderation.rules import ModerationRules

__all__ = [
    "AuthorRecord",
    "Classifier",
    "ClassifierResult",
    "Comment",
    "Decision",
    "Fingerprint",
    "ModerationContext",
    "ModerationRules",
    "Pipeline",
    "PriorComment",
    "Source",
    "StageResult",
    "Status",
]
