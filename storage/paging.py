"""Keyset paging: one cursor format and one bounded query shape for every list.

A cursor names the last item of a page by its position, never by an offset: ``<id>`` for
lists in ``_id`` order, ``<ms>.<id>`` for lists newest first by a time field (the item's
time in Unix milliseconds, then its id). The patterns below are what the OpenAPI document
states, and any string they accept is served (a position past the end is an empty page).

Newest-first lists are read in time bands: the embedded server reads every match of a
query before applying its limit, so each query is bounded on the sort key, starting with
a narrow band and doubling the time covered until the page is full. The first page's
band starts where the last first page of the same filter ended, so in steady state a
page examines about one page of documents on either server. Stored times have millisecond
precision, so bands are aligned to it and a band "from t" is written ``$gt: t - 1 ms``
(the embedded server's ``$gte`` drops the boundary document on a descending index key).
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from hub.domain import utcnow
from storage.errors import StorageBoundary

Document = dict[str, Any]

_ID = r"[0-9A-Za-z_-]{1,64}"
ID_CURSOR_PATTERN = rf"^{_ID}$"
"""A cursor in an ``_id``-ordered list: the last id of the page."""
TIME_CURSOR_PATTERN = rf"^[0-9]{{1,15}}\.{_ID}$"
"""A cursor in a newest-first list: ``<Unix ms>.<id>`` of the page's last item."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_LATEST = datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


def _ms_floor(at: datetime) -> datetime:
    return at - timedelta(microseconds=at.microsecond % 1000)


def _ms_ceil(at: datetime) -> datetime:
    floor = _ms_floor(at)
    return floor if floor == at else floor + _MS


class InvalidCursor(ValueError):
    """A paging cursor that does not have the stated format."""


def id_cursor(item_id: str) -> str:
    return item_id


def parse_id_cursor(cursor: str) -> str:
    if not re.fullmatch(ID_CURSOR_PATTERN, cursor):
        raise InvalidCursor("cursor is not valid")
    return cursor


def time_cursor(at: datetime, item_id: str) -> str:
    at = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    return f"{max((at - _EPOCH) // _MS, 0)}.{item_id}"


def parse_time_cursor(cursor: str) -> tuple[datetime, str]:
    if not re.fullmatch(TIME_CURSOR_PATTERN, cursor):
        raise InvalidCursor("cursor is not valid")
    ms, item_id = cursor.split(".", 1)
    span = _LATEST - _EPOCH
    at = _EPOCH + min(int(ms) * _MS, span)
    return at, item_id


async def by_id(
    collection: AsyncCollection[Document],
    query: Mapping[str, Any],
    limit: int,
    cursor: str | None,
    *,
    descending: bool = False,
) -> tuple[list[Document], str | None]:
    """One page of ``query`` in ``_id`` order, after the cursor's id.

    After a cursor that is an ObjectId (the hub's ids are), the page is read in bands of
    creation time from the cursor on, each twice as wide as the last; any other id is
    read in one query (only its equality filters bound it).
    """
    match: Document = {k: v for k, v in query.items() if v is not None}
    own: Document = match.pop("_id", None) or {}
    after = parse_id_cursor(cursor) if cursor else None
    step = "$lt" if descending else "$gt"
    docs: list[Document] = []
    for band in _id_bands(after, descending) if not own else [{}]:
        ids = {**own, **({step: after} if after is not None else {}), **band}
        found = collection.find({**match, "_id": ids} if ids else match)
        order = -1 if descending else 1
        docs += await found.sort("_id", order).limit(limit + 1 - len(docs)).to_list()
        if len(docs) > limit:
            break
    page = docs[:limit]
    return page, id_cursor(page[-1]["_id"]) if len(docs) > limit else None


_OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")
_FUTURE = 86400  # ids this far past the clock are read in the last, open band


def _id_bands(after: str | None, descending: bool) -> Iterator[Document]:
    """Contiguous ``_id`` ranges from ``after`` on, the last one open-ended."""
    if after is None or not _OBJECT_ID.match(after):
        yield {}
        return
    start, width = int(after[:8], 16), 60
    now = int(utcnow().timestamp())
    edge: str | None = None
    while True:
        seconds = start - width if descending else start + width
        last = seconds <= 0 if descending else seconds > now + _FUTURE
        if last:
            yield {} if edge is None else {"$lt" if descending else "$gte": edge}
            return
        bound = f"{seconds:08x}" + "0" * 16
        if descending:
            yield {"$gte": bound, **({"$lt": edge} if edge else {})}
        else:
            yield {"$lt": bound, **({"$gte": edge} if edge else {})}
        edge, width = bound, 2 * width


class NewestFirst(StorageBoundary):
    """Pages of one collection newest first by ``field`` (then ``_id``), in time bands.

    Remembers, per filter, where the last full first page ended (its first band next
    time) and how much time a page covered (the first band of later pages). A hint only:
    a wrong one costs an extra band or a wider one, never a wrong page.
    """

    def __init__(
        self,
        collection: AsyncCollection[Document],
        field: str,
        *,
        first_span: timedelta = timedelta(minutes=1),
        remembered: int = 1024,
    ) -> None:
        self.collection = collection
        self.field = field
        self.first_span = first_span
        self._remembered = remembered
        # filter -> lower end of the first page's band (None: read every match at once)
        self._anchors: OrderedDict[str, datetime | None] = OrderedDict()
        # filter -> the time a full page covered
        self._spans: OrderedDict[str, timedelta] = OrderedDict()

    async def page(
        self, query: Mapping[str, Any], limit: int, cursor: str | None
    ) -> tuple[list[Document], str | None]:
        match: Document = {k: v for k, v in query.items() if v is not None}
        own = match.pop(self.field, None) or {}
        floor: datetime | None = own.get("$gte")
        upper: datetime | None = own.get("$lt")
        key = repr(sorted(match.items()))
        anchor = self._anchors.get(key, utcnow() - self.first_span)
        span = self._spans.get(key, self.first_span)
        docs: list[Document] = []
        first_page = cursor is None and upper is None
        if cursor:
            at, after_id = parse_time_cursor(cursor)
            if upper is None or at < upper:
                if floor is None or at >= floor:
                    same = {**match, self.field: at, "_id": {"$lt": after_id}}
                    docs = await self._find(same, limit + 1)
                upper = at
        lower = anchor if first_page else (upper - span if upper is not None else None)
        lower = _ms_floor(lower) if lower is not None else None
        start = upper
        top = upper or utcnow()
        width = self.first_span
        while len(docs) <= limit:
            last = lower is None or (floor is not None and lower <= floor)
            bound = floor if last else lower
            band: Document = {"$gt": _ms_ceil(bound) - _MS} if bound is not None else {}
            if upper is not None:
                band["$lt"] = upper
            banded = {**match, self.field: band} if band else match
            docs += await self._find(banded, limit + 1 - len(docs))
            if last:
                break
            assert lower is not None
            # Each band at least doubles the time covered, so a page is full (or the
            # start of time reached) after a few dozen bands at most.
            width = max(top - lower, 2 * width)
            upper = lower
            lower = lower - width if lower - _EPOCH > width else None
        # A first page cut short by ``since`` says nothing about where the unfiltered one ends.
        self._remember(key, docs, limit, first_page and floor is None, start)
        page = docs[:limit]
        next_cursor = None
        if len(docs) > limit:
            next_cursor = time_cursor(page[-1][self.field], page[-1]["_id"])
        return page, next_cursor

    async def _find(self, match: Document, limit: int) -> list[Document]:
        order = [(self.field, -1), ("_id", -1)]
        return await self.collection.find(match).sort(order).limit(limit).to_list()

    def _remember(
        self, key: str, docs: list[Document], limit: int, first_page: bool, start: datetime | None
    ) -> None:
        if len(docs) > limit:
            boundary: datetime = docs[limit][self.field]
            newest = start if start is not None else docs[0][self.field]
            _keep(self._spans, key, max(newest - boundary + _MS, _MS), self._remembered)
            if first_page:
                _keep(self._anchors, key, boundary, self._remembered)
        elif first_page:  # fewer than a page match: read them all at once next time
            _keep(self._anchors, key, None, self._remembered)


def _keep(hints: OrderedDict[str, Any], key: str, value: Any, most: int) -> None:
    hints[key] = value
    hints.move_to_end(key)
    while len(hints) > most:
        hints.popitem(last=False)
