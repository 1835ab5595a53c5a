"""The archive store: where archives, backups and attachments live outside MongoDB.

One small interface, two implementations: a local directory (the embedded default) and S3
through boto3. Every object is written with its SHA-256 and every read is checked against
it, so a corrupted object is refused rather than restored. boto3 is synchronous; its calls
run in worker threads so the event loop never blocks.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import os
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


class S3Settings(Protocol):
    """What an S3 store is opened with (``archive.s3`` in the configuration)."""

    @property
    def bucket(self) -> str: ...
    @property
    def prefix(self) -> str: ...
    @property
    def region(self) -> str | None: ...
    @property
    def endpoint_url(self) -> str | None: ...
    @property
    def sse(self) -> str: ...
    @property
    def multipart_threshold_bytes(self) -> int: ...


class ArchiveSettings(Protocol):
    """Which store ``archive.store`` names, and where it keeps objects."""

    @property
    def store(self) -> str: ...
    @property
    def local_dir(self) -> Path: ...
    @property
    def s3(self) -> S3Settings: ...


class ArchiveStoreError(Exception):
    """The archive store could not do what was asked."""


class ObjectMissing(ArchiveStoreError):
    """No object under that key."""


class ChecksumMismatch(ArchiveStoreError):
    """An object's bytes do not match the SHA-256 it was written with."""


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    sha256: str


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class ArchiveStore(Protocol):
    """Objects by key; ``put`` records the SHA-256, ``get`` verifies it."""

    async def put(self, key: str, data: bytes) -> StoredObject: ...

    async def get(self, key: str, expected_sha256: str | None = None) -> bytes: ...

    async def head(self, key: str) -> StoredObject | None: ...

    async def list(self, prefix: str) -> list[str]: ...

    async def delete(self, key: str) -> None: ...


def _check(key: str, data: bytes, *expected: str | None) -> bytes:
    actual = sha256_hex(data)
    for digest in expected:
        if digest is not None and digest != actual:
            raise ChecksumMismatch(f"{key}: SHA-256 {actual} does not match {digest}")
    return data


async def verify(store: ArchiveStore, obj: StoredObject) -> None:
    """Read an object back and check its bytes against the checksum it was written with."""
    data = await store.get(obj.key, obj.sha256)
    if len(data) != obj.size:
        raise ChecksumMismatch(f"{obj.key}: {len(data)} bytes, expected {obj.size}")


async def put_attachment(store: ArchiveStore, data: bytes) -> str:
    """Store attachment bytes under their content hash and return the key (idempotent)."""
    digest = sha256_hex(data)
    key = f"attachments/{digest[:2]}/{digest}"
    existing = await store.head(key)
    if existing is None or existing.sha256 != digest:
        await store.put(key, data)
    return key


class _ThreadedStore(ABC):
    """Runs a blocking implementation's calls in worker threads, off the event loop."""

    @abstractmethod
    def _put(self, key: str, data: bytes) -> StoredObject: ...

    @abstractmethod
    def _get(self, key: str, expected: str | None) -> bytes: ...

    @abstractmethod
    def _head(self, key: str) -> StoredObject | None: ...

    @abstractmethod
    def _list(self, prefix: str) -> list[str]: ...

    @abstractmethod
    def _delete(self, key: str) -> None: ...

    async def put(self, key: str, data: bytes) -> StoredObject:
        return await asyncio.to_thread(self._put, key, data)

    async def get(self, key: str, expected_sha256: str | None = None) -> bytes:
        return await asyncio.to_thread(self._get, key, expected_sha256)

    async def head(self, key: str) -> StoredObject | None:
        return await asyncio.to_thread(self._head, key)

    async def list(self, prefix: str) -> list[str]:
        return await asyncio.to_thread(self._list, prefix)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._delete, key)


class LocalArchiveStore(_ThreadedStore):
    """A directory; each object has a ``.sha256`` sidecar. Writes are atomic renames."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()) or key.endswith(".sha256"):
            raise ArchiveStoreError(f"invalid key {key!r}")
        return path

    def _put(self, key: str, data: bytes) -> StoredObject:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        digest = sha256_hex(data)
        for target, payload in ((path, data), (Path(f"{path}.sha256"), digest.encode())):
            tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
            with open(tmp, "wb") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        return StoredObject(key, len(data), digest)

    def _get(self, key: str, expected: str | None) -> bytes:
        path = self._path(key)
        try:
            data = path.read_bytes()
            recorded = Path(f"{path}.sha256").read_text().strip()
        except FileNotFoundError as exc:
            raise ObjectMissing(key) from exc
        return _check(key, data, recorded, expected)

    def _head(self, key: str) -> StoredObject | None:
        path = self._path(key)
        try:
            return StoredObject(key, path.stat().st_size, Path(f"{path}.sha256").read_text())
        except FileNotFoundError:
            return None

    def _list(self, prefix: str) -> list[str]:
        if not self.root.exists():
            return []
        keys = []
        for path in self.root.rglob("*"):
            key = path.relative_to(self.root).as_posix()
            if path.is_file() and not path.name.startswith(".") and not key.endswith(".sha256"):
                keys.append(key)
        return sorted(key for key in keys if key.startswith(prefix))

    def _delete(self, key: str) -> None:
        path = self._path(key)
        path.unlink(missing_ok=True)
        Path(f"{path}.sha256").unlink(missing_ok=True)


class S3ArchiveStore(_ThreadedStore):
    """An S3 bucket (or MinIO/Ceph through ``endpoint_url``), credentials from boto3's chain.

    Single-part uploads send ``ChecksumSHA256`` so S3 itself rejects damaged uploads; every
    object also carries its whole-object SHA-256 in metadata (multipart checksums are
    per-part composites), which reads verify.
    """

    META_KEY = "sha256"

    def __init__(self, config: S3Settings, client: Any | None = None) -> None:
        import boto3
        from boto3.s3.transfer import TransferConfig

        if not config.bucket:
            raise ArchiveStoreError("archive.s3.bucket is required when archive.store is s3")
        self.config = config
        self.client = client or boto3.client(
            "s3", region_name=config.region, endpoint_url=config.endpoint_url
        )
        self.transfer = TransferConfig(
            multipart_threshold=config.multipart_threshold_bytes,
            multipart_chunksize=max(config.multipart_threshold_bytes // 4, 5 * 1024 * 1024),
        )

    def _key(self, key: str) -> str:
        return f"{self.config.prefix}{key}"

    def _put(self, key: str, data: bytes) -> StoredObject:
        digest = sha256_hex(data)
        extra: dict[str, Any] = {"Metadata": {self.META_KEY: digest}}
        if self.config.sse != "none":
            extra["ServerSideEncryption"] = self.config.sse
        if len(data) < self.config.multipart_threshold_bytes:
            self.client.put_object(
                Bucket=self.config.bucket,
                Key=self._key(key),
                Body=data,
                ChecksumSHA256=base64.b64encode(bytes.fromhex(digest)).decode(),
                **extra,
            )
        else:
            extra["ChecksumAlgorithm"] = "SHA256"
            self.client.upload_fileobj(
                io.BytesIO(data), self.config.bucket, self._key(key), ExtraArgs=extra,
                Config=self.transfer,
            )  # fmt: skip
        return StoredObject(key, len(data), digest)

    def _call(self, fn: Callable[[], T], key: str) -> T:
        from botocore.exceptions import ClientError

        try:
            return fn()
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in {"NoSuchKey", "404", "NotFound"}:
                raise ObjectMissing(key) from exc
            raise ArchiveStoreError(f"{key}: {exc}") from exc

    def _get(self, key: str, expected: str | None) -> bytes:
        answer = self._call(
            lambda: self.client.get_object(Bucket=self.config.bucket, Key=self._key(key)), key
        )
        data: bytes = answer["Body"].read()
        return _check(key, data, answer.get("Metadata", {}).get(self.META_KEY), expected)

    def _head(self, key: str) -> StoredObject | None:
        try:
            answer = self._call(
                lambda: self.client.head_object(Bucket=self.config.bucket, Key=self._key(key)),
                key,
            )
        except ObjectMissing:
            return None
        digest = answer.get("Metadata", {}).get(self.META_KEY, "")
        return StoredObject(key, int(answer["ContentLength"]), digest)

    def _list(self, prefix: str) -> list[str]:
        keys: list[str] = []
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.config.bucket, Prefix=self._key(prefix)
        )
        for page in pages:
            keys.extend(item["Key"][len(self.config.prefix) :] for item in page.get("Contents", []))
        return sorted(keys)

    def _delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.config.bucket, Key=self._key(key))


def open_archive_store(config: ArchiveSettings) -> ArchiveStore:
    """The store named by ``archive.store``."""
    if config.store == "s3":
        return S3ArchiveStore(config.s3)
    return LocalArchiveStore(config.local_dir)
