"""The archive store's contract, on the local directory and on S3 (moto on loopback)."""

from __future__ import annotations

import os

import pytest

from hub.config.model import S3ArchiveConfig
from storage.archive_store import (
    ArchiveStore,
    ChecksumMismatch,
    ObjectMissing,
    S3ArchiveStore,
    put_attachment,
    sha256_hex,
)
from tests.helpers.storage import corrupt


async def test_objects_round_trip_with_their_checksum(archive_store: ArchiveStore) -> None:
    stored = await archive_store.put("a/b/one.bin", b"hello archive")

    assert stored.sha256 == sha256_hex(b"hello archive")
    assert await archive_store.get("a/b/one.bin", stored.sha256) == b"hello archive"
    head = await archive_store.head("a/b/one.bin")
    assert head is not None and (head.size, head.sha256) == (13, stored.sha256)
    await archive_store.put("a/c/two.bin", b"x")
    assert await archive_store.list("a/") == ["a/b/one.bin", "a/c/two.bin"]
    await archive_store.delete("a/b/one.bin")
    assert await archive_store.head("a/b/one.bin") is None
    with pytest.raises(ObjectMissing):
        await archive_store.get("a/b/one.bin")


async def test_a_corrupted_object_is_refused(archive_store: ArchiveStore) -> None:
    stored = await archive_store.put("x/data.bin", os.urandom(4096))
    corrupt(archive_store, "x/data.bin")

    with pytest.raises(ChecksumMismatch):
        await archive_store.get("x/data.bin", stored.sha256)
    with pytest.raises(ChecksumMismatch):  # its own recorded checksum catches it too
        await archive_store.get("x/data.bin")


async def test_a_different_expected_checksum_is_refused(archive_store: ArchiveStore) -> None:
    await archive_store.put("y.bin", b"one")
    with pytest.raises(ChecksumMismatch):
        await archive_store.get("y.bin", sha256_hex(b"two"))


async def test_attachments_are_stored_once_by_content_hash(archive_store: ArchiveStore) -> None:
    image = os.urandom(2048)
    key = await put_attachment(archive_store, image)

    assert key == f"attachments/{sha256_hex(image)[:2]}/{sha256_hex(image)}"
    assert await put_attachment(archive_store, image) == key
    assert await archive_store.list("attachments/") == [key]
    assert await archive_store.get(key) == image


async def test_large_objects_go_up_in_parts_with_encryption(s3_config: S3ArchiveConfig) -> None:
    config = s3_config.model_copy(update={"multipart_threshold_bytes": 5 * 1024 * 1024})
    store = S3ArchiveStore(config)
    data = os.urandom(11 * 1024 * 1024)

    stored = await store.put("big.bin", data)

    answer = store.client.head_object(Bucket=config.bucket, Key="hub/big.bin")
    assert answer["ETag"].strip('"').endswith("-3")  # three parts
    assert answer["ServerSideEncryption"] == "AES256"
    assert await store.get("big.bin", stored.sha256) == data
