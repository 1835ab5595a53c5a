"""Reports over a known history: the figures, the filters, CSV, and who may see what."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import UTC, datetime, time, timedelta
from typing import Any

from hub.api.reports import Snapshot
from hub.domain import utcnow
from storage.reports import REFRESH
from tests.helpers.api import Client
from tests.helpers.hub import bearer, wait_for
from tests.helpers.report_seed import seed_reports

TODAY = {"range": "today"}


async def _seeded(db: Any) -> None:
    await seed_reports(db, datetime.combine(utcnow().date(), time(), tzinfo=UTC))


async def _tables(client: Client, name: str, headers: Any, **params: str) -> Any:
    resp = await client.get(f"/api/v1/reports/{name}", params=TODAY | params, headers=headers)
    assert resp.status == 200, await resp.text()
    return (await resp.json())["tables"]


async def test_every_report_over_the_seeded_day(client: Client, db: Any) -> None:
    await _seeded(db)
    admin = bearer(client, "root", role="admin")
    day = utcnow().date().isoformat()
    conversations = await _tables(client, "conversations", admin)
    assert conversations["days"] == [
        {"day": day, "channel": "telegram", "new": 1, "reopened": 0},
        {"day": day, "channel": "web", "new": 3, "reopened": 1},
    ]
    times = await _tables(client, "response-times", admin)
    [row] = times["days"]
    # First agent replies: 60 s, 600 s (a private note at 5 s does not count), 30 s.
    assert row["first_response_count"] == 3
    assert (row["first_response_median_seconds"], row["first_response_p90_seconds"]) == (60, 600)
    assert (row["resolution_median_seconds"], row["resolution_p90_seconds"]) == (1200, 3600)
    first_bins = {b["bin"]: b["count"] for b in times["histogram"] if b["kind"] == "first_response"}
    assert first_bins["0s–1m"] == 1 and first_bins["1m–5m"] == 1 and first_bins["5m–15m"] == 1
    bot = await _tables(client, "bot", admin)
    assert bot["days"][0] | {"day": day} == {
        "day": day,
        "resolved": 2,
        "contained": 1,
        "containment_rate": 0.5,
        "handoffs": 3,
        "webhook_failures": 3,
    }
    assert bot["webhook_failures"] == [
        {"day": day, "kind": "http_status", "count": 1},
        {"day": day, "kind": "timeout", "count": 2},
    ]
    assert bot["handoff_reasons"] == [
        {"reason": "customer_request", "count": 1},
        {"reason": "low_confidence", "count": 2},
    ]
    assert bot["unanswered"][0] == {"question": "do you ship to mars?", "count": 2}
    ratings = await _tables(client, "ratings", admin)
    assert [r["count"] for r in ratings["distribution"]] == [1, 0, 1, 0, 1]
    assert ratings["days"] == [{"day": day, "count": 3, "average": 3.0}]
    assert {(r["agent"], r["average"]) for r in ratings["agents"]} == {("alice", 4.0), ("bob", 1.0)}
    agents = {a["agent"]: a for a in (await _tables(client, "agents", admin))["agents"]}
    assert agents["alice"]["handled"] == 1
    assert agents["alice"]["median_first_response_seconds"] == 60
    assert agents["alice"]["median_resolution_seconds"] == 3600
    assert agents["bob"]["median_first_response_seconds"] == 30
    moderation = await _tables(client, "moderation", admin)
    assert moderation["days"] == [{"day": day, "approved": 2, "held": 3, "rejected": 1}]


async def _queue(client: Client, headers: Any, **params: str) -> tuple[Any, datetime, datetime]:
    before = utcnow()
    tables = await _tables(client, "moderation", headers, **params)
    return tables, before, utcnow()


def _age_between(seconds: int, came: datetime, before: datetime, after: datetime) -> bool:
    """An age in whole seconds, as of some moment between ``before`` and ``after``."""
    low = max(0, round((before - came).total_seconds()))
    return low <= seconds <= max(0, round((after - came).total_seconds()))


async def test_moderation_queue_age_and_the_channel_filter(client: Client, db: Any) -> None:
    await _seeded(db)
    base = datetime.combine(utcnow().date(), time(), tzinfo=UTC)
    admin = bearer(client, "root", role="admin")
    tables, before, after = await _queue(client, admin)
    [queue] = tables["queue"]
    # Held: web at base and base + 2 min, Telegram at base + 1 min; the median is the middle.
    assert queue["pending"] == 3
    assert _age_between(queue["oldest_age_seconds"], base, before, after)
    assert _age_between(queue["median_age_seconds"], base + timedelta(minutes=1), before, after)
    web, before, after = await _queue(client, admin, channel="web")
    assert web["queue"][0]["pending"] == 2
    assert _age_between(web["queue"][0]["oldest_age_seconds"], base, before, after)
    telegram, before, after = await _queue(client, admin, channel="telegram")
    day = base.date().isoformat()
    assert telegram["days"] == [{"day": day, "approved": 0, "held": 1, "rejected": 0}]
    assert telegram["by_reason"] == [
        {"status": "held", "stage": "links", "reason": "too_many_links", "count": 1}
    ]
    [only] = telegram["queue"]
    assert only["pending"] == 1
    assert _age_between(only["oldest_age_seconds"], base + timedelta(minutes=1), before, after)
    assert only["median_age_seconds"] == only["oldest_age_seconds"]
    slack = await _tables(client, "moderation", admin, channel="slack")
    assert slack["queue"] == [
        {"pending": 0, "oldest_age_seconds": None, "median_age_seconds": None}
    ]


async def test_webhook_failures_follow_the_channel_filter_and_download(
    client: Client, db: Any
) -> None:
    await _seeded(db)
    admin = bearer(client, "root", role="admin")
    telegram = await _tables(client, "bot", admin, channel="telegram")
    assert telegram["days"][0]["webhook_failures"] == 1
    assert [(r["kind"], r["count"]) for r in telegram["webhook_failures"]] == [("http_status", 1)]
    resp = await client.get(
        "/api/v1/reports/bot",
        params=TODAY | {"format": "csv", "table": "webhook_failures", "channel": "web"},
        headers=admin,
    )
    assert resp.status == 200
    rows = list(csv.DictReader(io.StringIO(await resp.text())))
    assert rows == [{"day": utcnow().date().isoformat(), "kind": "timeout", "count": "2"}]
    resp = await client.get(
        "/api/v1/reports/moderation",
        params=TODAY | {"format": "csv", "table": "queue", "channel": "telegram"},
        headers=admin,
    )
    [queue] = list(csv.DictReader(io.StringIO(await resp.text())))
    assert queue["pending"] == "1" and int(queue["oldest_age_seconds"]) >= 0


async def test_channel_filter_and_agents_see_their_own(client: Client, db: Any) -> None:
    await _seeded(db)
    admin = bearer(client, "root", role="admin")
    web = await _tables(client, "conversations", admin, channel="telegram")
    assert [(r["channel"], r["new"]) for r in web["days"]] == [("telegram", 1)]
    alice = bearer(client, "alice")
    times = await _tables(client, "response-times", alice)
    assert times["days"][0]["first_response_count"] == 2  # Bob's reply is not hers
    agents = await _tables(client, "agents", alice)
    assert [a["agent"] for a in agents["agents"]] == ["alice"]
    ratings = await _tables(client, "ratings", alice)
    assert [r["count"] for r in ratings["distribution"]] == [0, 0, 1, 0, 1]
    as_admin = await _tables(client, "ratings", admin, agent="bob")
    assert [r["count"] for r in as_admin["distribution"]] == [1, 0, 0, 0, 0]


async def test_strangers_and_other_agents_are_refused(client: Client, db: Any) -> None:
    await _seeded(db)
    resp = await client.get("/api/v1/reports/conversations")
    assert resp.status == 401
    alice = bearer(client, "alice")
    resp = await client.get("/api/v1/reports/agents", params={"agent": "bob"}, headers=alice)
    assert resp.status == 403
    assert (await resp.json())["error"]["code"] == "not_your_report"
    for admin_only in ("bot", "moderation"):
        resp = await client.get(f"/api/v1/reports/{admin_only}", headers=alice)
        assert resp.status == 403, admin_only


async def test_csv_download_of_one_table(client: Client, db: Any) -> None:
    await _seeded(db)
    admin = bearer(client, "root", role="admin")
    resp = await client.get(
        "/api/v1/reports/bot",
        params=TODAY | {"format": "csv", "table": "unanswered"},
        headers=admin,
    )
    assert resp.status == 200
    assert resp.content_type == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(await resp.text())))
    # A question starting with "=" must not run as a spreadsheet formula.
    assert rows == [
        {"question": "do you ship to mars?", "count": "2"},
        {"question": "'=hyperlink()", "count": "1"},
    ]
    resp = await client.get(
        "/api/v1/reports/bot", params={"format": "csv", "table": "nope"}, headers=admin
    )
    assert resp.status == 400
    assert (await resp.json())["error"]["code"] == "unknown_table"


async def test_any_range_is_served_as_the_days_it_covers(client: Client) -> None:
    admin = bearer(client, "root", role="admin")
    today = utcnow().date()
    for params, since, until in (
        ({"range": "custom"}, today - timedelta(days=6), today),  # custom alone: the 7 days
        ({"range": "custom", "since": "2025-01-01", "until": "2025-12-31"}, "2025-10-01", None),
        ({"range": "custom", "since": "2999-01-01", "until": "2999-01-02"}, today, today),
        ({"range": "7d", "since": "2025-01-01"}, today - timedelta(days=91), today),
        ({"until": "0001-01-03"}, "0001-01-01", "0001-01-03"),  # dates make the range custom
        ({"range": "custom", "since": "2025-01-31", "until": "2025-01-01"}, "2025-01-01", None),
    ):
        resp = await client.get("/api/v1/reports/conversations", params=params, headers=admin)
        assert resp.status == 200, params
        covered = (await resp.json())["range"]
        expected_until = str(until or params["until"])
        assert (covered["since"], covered["until"]) == (str(since), expected_until), params
    resp = await client.get(
        "/api/v1/reports/conversations",
        params={"range": "custom", "since": "2025-01-01", "until": "2025-01-31"},
        headers=admin,
    )
    assert resp.status == 200
    assert (await resp.json())["range"] == {
        "since": "2025-01-01",
        "until": "2025-01-31",
        "channel": None,
        "agent": None,
    }


async def test_first_reply_and_containment_are_kept_from_the_inbox(client: Client, db: Any) -> None:
    async with client.ws_connect("/chat") as ws:
        await ws.send_json({"type": "message", "text": "my order is late", "client_id": "1"})
        while (await ws.receive_json(timeout=10))["type"] != "ack":
            pass
    conversation = await wait_for(
        lambda: db.conversations.find_one({"human_at": {"$exists": True}})
    )
    alice = bearer(client, "alice")
    path = f"/api/v1/conversations/{conversation['_id']}/messages"
    note = await client.post(
        path, json={"text": "checking the depot", "private": True}, headers=alice
    )
    assert note.status == 201, await note.text()
    reply = await client.post(path, json={"text": "It ships today."}, headers=alice)
    sent = await reply.json()
    later = await client.post(path, json={"text": "Tracking to follow."}, headers=alice)
    assert later.status == 201

    async def first_reply() -> Any:
        doc = await db.conversations.find_one({"_id": conversation["_id"]})
        return doc.get("first_reply_at")

    kept = await wait_for(first_reply)
    assert kept.isoformat().replace("+00:00", "Z")[:19] == sent["created_at"][:19]
    admin = bearer(client, "root", role="admin")
    resolved = await client.patch(
        f"/api/v1/conversations/{conversation['_id']}", json={"status": "resolved"}, headers=admin
    )
    assert resolved.status == 200
    bot = await _tables(client, "bot", admin)
    assert (bot["days"][0]["resolved"], bot["days"][0]["contained"]) == (1, 0)
    times = await _tables(client, "response-times", admin)
    assert times["days"][0]["first_response_count"] == 1


async def test_a_stale_day_answers_at_once_and_is_rolled_up_behind(client: Client, db: Any) -> None:
    await _seeded(db)
    admin = bearer(client, "root", role="admin")
    first = await _tables(client, "conversations", admin, channel="telegram")
    assert first["days"][0]["new"] == 1
    await seed_reports(db, datetime.combine(utcnow().date(), time(), tzinfo=UTC), "again-")
    await db.report_days.update_many(
        {}, {"$set": {"computed_at": datetime(2000, 1, 1, tzinfo=UTC)}}
    )
    stale = await _tables(client, "conversations", admin, channel="telegram")
    assert stale["days"][0]["new"] == 1  # the bucket it had, not a wait for the rollup

    async def refreshed() -> bool:
        again = await _tables(client, "conversations", admin, channel="telegram")
        return bool(again["days"][0]["new"] == 2)

    await wait_for(refreshed)


async def test_a_bucket_of_an_older_format_is_rolled_up_again(client: Client, db: Any) -> None:
    await _seeded(db)
    day = utcnow().date().isoformat()
    row = {"channel": "telegram", "agent": None, "new": 99, "reopened": 0, "frt": [], "res": []}
    await db.report_days.insert_one(
        {"_id": day, "computed_at": utcnow(), "final": True, "rows": [row], "moderation": []}
    )
    admin = bearer(client, "root", role="admin")
    tables = await _tables(client, "conversations", admin, channel="telegram")
    assert tables["days"] == [{"day": day, "channel": "telegram", "new": 1, "reopened": 0}]


async def test_agents_loads_are_counted_at_most_once_a_refresh_period() -> None:
    counted: list[int] = []

    async def count() -> Counter[str]:
        counted.append(1)
        return Counter({"alice": len(counted)})

    cache = Snapshot(count)
    now = utcnow()
    assert await cache.get(now) == {"alice": 1}
    assert await cache.get(now + REFRESH) == {"alice": 1}  # within the period: no recount
    assert len(counted) == 1
    later = now + REFRESH + timedelta(seconds=1)
    assert await cache.get(later) == {"alice": 1}  # the count it has, a recount behind

    async def recounted() -> bool:
        return await cache.get(later) == {"alice": 2}

    await wait_for(recounted)
    assert len(counted) == 2  # asked again while recounting: still one recount
