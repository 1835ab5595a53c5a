"""Knowledge base entries and the YAML files they are kept in.

A file holds ``entries:``, each with an ``id``, the ``questions`` customers ask (several
wordings, any language), the ``answer`` and optional follow-up ``links``.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hub.domain import KnowledgeEntry


class KnowledgeFileError(ValueError):
    """A knowledge file that cannot be read; the message names the file and the problem."""


class _KnowledgeFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entries: list[KnowledgeEntry] = Field(default_factory=list)


def load_knowledge_files(paths: list[Path]) -> list[KnowledgeEntry]:
    """Every entry of every file, marked as coming from a file; ids must be unique."""
    entries: dict[str, KnowledgeEntry] = {}
    for path in paths:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            parsed = _KnowledgeFile.model_validate(data)
        except FileNotFoundError as exc:
            raise KnowledgeFileError(f"knowledge file not found: {path}") from exc
        except (yaml.YAMLError, ValidationError) as exc:
            raise KnowledgeFileError(f"knowledge file {path} is not valid: {exc}") from exc
        for entry in parsed.entries:
            if entry.id in entries:
                raise KnowledgeFileError(f"knowledge entry {entry.id!r} is defined twice")
            entries[entry.id] = entry.model_copy(update={"source": "file"})
    return list(entries.values())
