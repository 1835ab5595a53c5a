"""Response shapes shared by several endpoints, for the OpenAPI document.

They describe what handlers return without constraining items further than the
stored objects do; a page's ``next_cursor`` is null on the last page.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class Page(BaseModel):
    items: list[dict[str, Any]]
    next_cursor: str | None


class ItemList(BaseModel):
    items: list[dict[str, Any]]
