"""Response shapes shared by several endpoints, for the OpenAPI document.

They describe what handlers return without constraining items further than the
stored objects do; a page's ``next_cursor`` is null on the last page.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, BeforeValidator

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def _rfc3339(value: Any) -> Any:
    if not isinstance(value, str) or not _RFC3339.match(value):
        raise ValueError("give an RFC 3339 date-time with a timezone, e.g. 2026-01-01T00:00:00Z")
    return value


# A date-time in a query string: only the RFC 3339 text the OpenAPI document promises
# (pydantic alone would also take a bare number as a Unix time).
Timestamp = Annotated[AwareDatetime, BeforeValidator(_rfc3339)]


class Page(BaseModel):
    items: list[dict[str, Any]]
    next_cursor: str | None


class ItemList(BaseModel):
    items: list[dict[str, Any]]
