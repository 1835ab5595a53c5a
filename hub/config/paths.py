"""Relative paths in the configuration, anchored where they were written.

A path in ``config.yaml`` means a file next to that config, wherever ``chorus`` is started
from; a built-in default (``knowledge/faq.yaml``, ``data/db``) means the one shipped with
Chorus, beside the ``hub`` package. A path from an environment variable is the operator's,
typed in their shell, so it stays relative to the working directory.
"""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel

PACKAGE_ROOT = Path(__file__).resolve().parents[2]


def _parts(annotation: Any) -> tuple[bool, type[BaseModel] | None]:
    """Whether a field holds paths, and the model it holds (directly or in a list)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return False, annotation
    if annotation is Path:
        return True, None
    holds_path, model = False, None
    if typing.get_origin(annotation) in (list, typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            arg_path, arg_model = _parts(arg)
            holds_path, model = holds_path or arg_path, model or arg_model
    return holds_path, model


def _anchor(value: Any, base: Path) -> Any:
    if isinstance(value, list):
        return [_anchor(item, base) for item in value]
    if isinstance(value, str | Path) and not Path(value).is_absolute():
        return str(base / value)
    return value


def anchor_file_paths(model: type[BaseModel], data: Any, base: Path) -> Any:
    """``data`` read from a config file in ``base``, its relative paths made absolute."""
    if not isinstance(data, dict):
        return data
    anchored = dict(data)
    for key, value in data.items():
        field = model.model_fields.get(key)
        if field is None:
            continue
        holds_path, nested = _parts(field.annotation)
        if holds_path:
            anchored[key] = _anchor(value, base)
        elif nested is not None and isinstance(value, list):
            anchored[key] = [anchor_file_paths(nested, item, base) for item in value]
        elif nested is not None:
            anchored[key] = anchor_file_paths(nested, value, base)
    return anchored


def anchor_defaults(config: BaseModel, base: Path = PACKAGE_ROOT) -> None:
    """Make every relative path nobody set (a built-in default) relative to ``base``."""
    for name, field in type(config).model_fields.items():
        value = getattr(config, name)
        holds_path, nested = _parts(field.annotation)
        if holds_path and name not in config.model_fields_set and value is not None:
            anchored = _anchor(value, base)
            setattr(
                config,
                name,
                [Path(v) for v in anchored] if isinstance(value, list) else (Path(anchored)),
            )
        elif nested is not None:
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, BaseModel):
                    anchor_defaults(item, base)
