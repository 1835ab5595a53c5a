"""The external classifier webhook the pipeline's ``classifier`` stage may consult.

The hub POSTs ``{"text", "source", "target"}`` and expects ``{"score": 0..1, "labels": []}``.
Any failure raises; the stage turns that into a hold, never an approval.
"""

from __future__ import annotations

from typing import Any

import aiohttp

from hub.config.model import ClassifierConfig
from moderation import ClassifierResult, Comment


class ClassifierError(Exception):
    """The classifier did not give a usable answer."""


class WebhookClassifier:
    def __init__(self, config: ClassifierConfig) -> None:
        self.url = config.url
        self.token = config.token.get_secret_value()
        self.timeout = aiohttp.ClientTimeout(total=config.timeout_seconds)
        self._session: aiohttp.ClientSession | None = None

    async def __call__(self, comment: Comment, text: str) -> ClassifierResult:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        body = {"text": text, "source": comment.source, "target": comment.target}
        async with self._session.post(self.url, json=body, headers=headers) as response:
            if response.status != 200:
                raise ClassifierError(f"classifier answered {response.status}")
            data: Any = await response.json(content_type=None)
        if not isinstance(data, dict) or not isinstance(data.get("score"), int | float):
            raise ClassifierError("classifier answer has no numeric score")
        labels = data.get("labels") or []
        return ClassifierResult(
            score=float(data["score"]),
            labels=tuple(str(label) for label in labels) if isinstance(labels, list) else (),
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
