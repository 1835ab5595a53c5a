"""Privacy fixtures: the hub with its archive in S3 (moto's server, on loopback)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import boto3
import pytest
from moto.server import ThreadedMotoServer

from hub.config.model import ChorusConfig, S3ArchiveConfig
from storage.archive_store import ArchiveStore, open_archive_store


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def config(config: ChorusConfig, s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> ChorusConfig:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    bucket = f"chorus-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=s3_endpoint).create_bucket(Bucket=bucket)
    config.archive.store = "s3"
    config.archive.s3 = S3ArchiveConfig(
        bucket=bucket, prefix="hub/", region="us-east-1", endpoint_url=s3_endpoint
    )
    return config


@pytest.fixture
def archive(config: ChorusConfig) -> ArchiveStore:
    return open_archive_store(config.archive)
