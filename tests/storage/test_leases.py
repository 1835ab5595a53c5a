"""Leases and the scheduled archiver: one holder across hub instances."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.config.model import ArchiveConfig
from hub.ops.archive_schedule import ArchiveSchedule
from storage.leases import LeaseStore, LeaseUnavailable
from storage.mongo import MongoStore


async def test_one_owner_at_a_time_until_the_lease_expires(mongo: MongoStore) -> None:
    leases = LeaseStore(mongo)

    assert await leases.acquire("job", "a", ttl_seconds=60)
    assert not await leases.acquire("job", "b", ttl_seconds=60)
    assert await leases.acquire("job", "a", ttl_seconds=60)  # renewal
    assert await leases.owner("job") == "a"

    assert await leases.acquire("job", "a", ttl_seconds=-1)  # now expired
    assert await leases.acquire("job", "b", ttl_seconds=60)
    assert await leases.owner("job") == "b"


async def test_a_held_lease_is_released_after_the_block(mongo: MongoStore) -> None:
    leases = LeaseStore(mongo)
    async with leases.hold("job", "a"):
        with pytest.raises(LeaseUnavailable):
            async with leases.hold("job", "b"):
                pass
    async with leases.hold("job", "b"):
        assert await leases.owner("job") == "b"


async def test_the_schedule_runs_on_one_instance_only(mongo: MongoStore, tmp_path: Path) -> None:
    config = ArchiveConfig(local_dir=tmp_path / "archive", schedule_seconds=30)
    first, second = ArchiveSchedule(mongo, config), ArchiveSchedule(mongo, config)

    assert await first.tick()
    assert not await second.tick()
    assert await first.tick()
    assert await LeaseStore(mongo).owner("archive-schedule") == first.owner
