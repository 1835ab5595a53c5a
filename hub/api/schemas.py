"""Response shapes shared by several endpoints, for the OpenAPI document.

They describe what handlers return without constraining items further than the
stored objects do; a page's ``next_cursor`` is null on the last page.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, BeforeValidator, JsonValue, StringConstraints

from storage.paging import ID_CURSOR_PATTERN, TIME_CURSOR_PATTERN

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def _rfc3339(value: Any) -> Any:
    if not isinstance(value, str) or not _RFC3339.match(value):
        raise ValueError("give an RFC 3339 date-time with a timezone, e.g. 2026-01-01T00:00:00Z")
    return value


# A date-time in a query string: only the RFC 3339 text the OpenAPI document promises
# (pydantic alone would also take a bare number as a Unix time).
Timestamp = Annotated[AwareDatetime, BeforeValidator(_rfc3339)]


# Characters that are never text: C0 and C1 controls and DEL.
_CONTROL = r"\x00-\x1f\x7f-\x9f"
# White space as both ECMA-262 (the document's regex dialect) and Python's str.strip()
# see it, spelled out so that the server's regex engine and a client's agree.
_SPACE = r" \xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
# One visible character at least, and no control characters: what strip() leaves
# non-empty is exactly what this pattern accepts.
VISIBLE_PATTERN = rf"^[^{_CONTROL}]*[^{_CONTROL}{_SPACE}][^{_CONTROL}]*$"
# Text of several lines: as above, but tab and line breaks allowed; bidirectional
# overrides and isolates are refused too (they make text read differently than it is),
# and zero-width characters do not count as visible.
_TEXT_CONTROL = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
_INVISIBLE = r"\t\n\r\u00ad\u200b\u2060"
TEXT_PATTERN = rf"^[^{_TEXT_CONTROL}]*[^{_TEXT_CONTROL}{_SPACE}{_INVISIBLE}][^{_TEXT_CONTROL}]*$"

Visible = Annotated[str, StringConstraints(min_length=1, pattern=VISIBLE_PATTERN)]
"""A one-line string that is not blank and has no control characters."""
Label = Annotated[Visible, StringConstraints(max_length=64)]
"""A conversation label: 1 to 64 characters."""
TEXT_SCHEMA: dict[str, JsonValue] = {"minLength": 1, "pattern": TEXT_PATTERN}
"""Text that may span lines, is not blank and has no control characters but tab and
line breaks (stated in the document; the moderation pipeline enforces it)."""


IdCursor = Annotated[str, StringConstraints(pattern=ID_CURSOR_PATTERN)]
"""The cursor of a list in id order: the last id of the previous page."""
TimeCursor = Annotated[str, StringConstraints(pattern=TIME_CURSOR_PATTERN)]
"""The cursor of a newest-first list: ``<Unix ms>.<id>`` of the previous page's last item."""


class Page(BaseModel):
    items: list[dict[str, Any]]
    next_cursor: str | None


class ItemList(BaseModel):
    items: list[dict[str, Any]]
