"""A change-stream update applied to the document as it was before it, in memory.

``updateLookup`` returns a document as it is when the server reads it, which may be
several updates later than the event; the update description says exactly what this one
update changed. Replaying descriptions over a document seen earlier in the same stream
gives its state after each update, in order.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

Document = dict[str, Any]


class NotReplayable(ValueError):
    """The description does not fit the document (it names a path the document lacks)."""


def apply_update(doc: Mapping[str, Any], description: Mapping[str, Any]) -> Document:
    """``doc`` after the update ``description`` (``updatedFields``, ``removedFields``,
    ``truncatedArrays``, as MongoDB reports them)."""
    after: Document = copy.deepcopy(dict(doc))
    for item in description.get("truncatedArrays") or []:
        *parents, last = item["field"].split(".")
        target = _child(_walk(after, parents), last)
        if not isinstance(target, list):
            raise NotReplayable(item["field"])
        del target[item["newSize"] :]
    for path in description.get("removedFields") or []:
        *parents, last = path.split(".")
        container = _walk(after, parents)
        if isinstance(container, dict):
            container.pop(last, None)
    for path, value in (description.get("updatedFields") or {}).items():
        *parents, last = path.split(".")
        container = _walk(after, parents, create=True)
        if isinstance(container, list):
            index = _index(last)
            if index >= len(container):
                container.extend([None] * (index + 1 - len(container)))
            container[index] = value
        elif isinstance(container, dict):
            container[last] = value
        else:
            raise NotReplayable(path)
    return after


def _walk(doc: Any, parts: list[str], *, create: bool = False) -> Any:
    node = doc
    for part in parts:
        if isinstance(node, dict) and create and part not in node:
            node[part] = {}
        node = _child(node, part)
    return node


def _child(node: Any, part: str) -> Any:
    if isinstance(node, dict) and part in node:
        return node[part]
    if isinstance(node, list):
        index = _index(part)
        if index < len(node):
            return node[index]
    raise NotReplayable(part)


def _index(part: str) -> int:
    if not part.isdigit():
        raise NotReplayable(part)
    return int(part)
