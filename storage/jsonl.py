"""Gzip'd JSON Lines in MongoDB extended JSON (canonical mode), the archive's file format.

Canonical extended JSON keeps every BSON type (dates, ObjectIds, Int64, doubles, binary),
so a document decoded from an archive encodes to the same bytes it had in MongoDB.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable, Iterator
from typing import Any

from bson import json_util
from bson.json_util import JSONMode, JSONOptions

OPTIONS = JSONOptions(json_mode=JSONMode.CANONICAL, tz_aware=True)


def dumps(doc: Any) -> str:
    return json_util.dumps(doc, json_options=OPTIONS)


def loads(text: str | bytes) -> Any:
    return json_util.loads(text, json_options=OPTIONS)


def encode_lines(records: Iterable[Any]) -> bytes:
    """Records as gzip'd JSON Lines (mtime fixed, so equal records give equal bytes)."""
    body = "".join(dumps(record) + "\n" for record in records).encode("utf-8")
    return gzip.compress(body, compresslevel=6, mtime=0)


def decode_lines(data: bytes) -> Iterator[Any]:
    for line in gzip.decompress(data).decode("utf-8").splitlines():
        if line:
            yield loads(line)
