"""Malformed bodies at every public entry point: a clear 4xx with a JSON error, nothing stored."""

from __future__ import annotations

import json
from typing import Any

from tests.helpers.hub import bearer
from tests.helpers.telegram import SECRET

DEEP = ("[" * 10_000 + "]" * 10_000).encode()
BODIES: list[tuple[bytes, str]] = [
    (b"", "application/json"),
    (b"{not json", "application/json"),
    (b"\xff\xfe\xfa invalid utf-8", "application/json"),
    (b'{"text": "\xff"}', "application/json"),
    (DEEP, "application/json"),
    (b'{"a":' * 5_000 + b"1" + b"}" * 5_000, "application/json"),
    (b"[]", "application/json"),
    (b"null", "application/json"),
    (b'"just a string"', "application/json"),
    (b"12345", "application/json"),
    (b'{"update_id": "x", "message": []}', "application/json"),
    (b'{"update_id": 5, "message": {"chat": null, "text": 7}}', "application/json"),
    (b'{"update_id": 6, "edited_message": {"from": [], "chat": {"id": {}}}}', "application/json"),
    (b'{"text": ["a"], "comment": {}, "email": 5}', "application/json"),
    (b'{"text": "' + b"x" * 2_000_000 + b'"}', "application/json"),
    (b"comment=hi&text=hello", "application/x-www-form-urlencoded"),
    (b'{"text": "hi"}', "text/plain"),
]


async def _counts(db: Any) -> dict[str, int]:
    return {name: await db[name].count_documents({}) for name in ("messages", "comments")}


async def test_malformed_bodies_get_4xx_json_errors_and_store_nothing(tg_client, db) -> None:
    conversation = "c" * 24
    targets = [
        ("/webhooks/telegram", {"X-Telegram-Bot-Api-Secret-Token": SECRET}),
        ("/comment", {}),
        ("/api/v1/comments", bearer(tg_client)),
        (f"/api/v1/conversations/{conversation}/messages", bearer(tg_client)),
        (f"/api/v1/conversations/{conversation}/notes", bearer(tg_client)),
    ]
    before = await _counts(db)
    statuses: list[int] = []
    for path, headers in targets:
        for body, content_type in BODIES:
            resp = await tg_client.post(
                path, data=body, headers={**headers, "Content-Type": content_type}
            )
            statuses.append(resp.status)
            answer = json.loads(await resp.read())
            if resp.status == 200 and path == "/webhooks/telegram":
                continue  # an update with an id is acked so Telegram stops resending it
            assert 400 <= resp.status < 500, (path, body[:40], resp.status)
            assert answer.get("error") or answer.get("status") == "error", (path, answer)
    assert await _counts(db) == before
    assert len(statuses) == len(targets) * len(BODIES)
