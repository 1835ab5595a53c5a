"""``chorus doctor`` checks of the outside world: channel credentials and archive stores.

Each enabled channel of the registry checks its credentials with the one cheap,
read-only call its ``ChannelSpec.doctor`` makes (``adapters/<channel>/doctor.py``) against
the configured base URL, so the same check works against the real platform and a local
fake. Store sections are read defensively (``getattr`` over the likely key names): a
section that is absent is skipped.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

from hub.channels.checks import CheckResult, ProbeContext
from hub.config.model import ChorusConfig

STORE_SECTIONS = ("archive", "backup")


def setting(section: Any, *names: str, default: Any = None) -> Any:
    """The first of ``names`` the section has and sets (secrets unwrapped), else default."""
    for name in names:
        value: Any = getattr(section, name, None)
        if hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        if value not in (None, ""):
            return value
    return default


async def check_channels(config: ChorusConfig, probe: ProbeContext) -> list[CheckResult]:
    """Each enabled channel's credentials, with one cheap API call."""
    results = []
    for spec in config.channels:
        if spec.doctor is None:
            continue
        if not spec.section_of(config).enabled:
            results.append(CheckResult(f"{spec.name}.credentials", "skip", "channel not enabled"))
            continue
        results.append(await spec.doctor(spec.section_of(config), probe))
    return results


async def check_stores(config: ChorusConfig) -> list[CheckResult]:
    """Each configured archive or backup store accepts a write (then the probe is deleted)."""
    results = []
    for name in STORE_SECTIONS:
        section = getattr(config, name, None)
        if section is None or not getattr(section, "enabled", True):
            continue
        # The archive section names its store (local directory or an S3 bucket).
        kind = getattr(section, "store", None)
        s3 = getattr(section, "s3", None)
        if kind == "s3" and s3 is not None:
            section = s3
        bucket = setting(section, "bucket", "s3_bucket") if kind in (None, "s3") else None
        path = setting(section, "local_dir", "path", "directory", "local_path", "dir", "root")
        if bucket:
            results.append(await asyncio.to_thread(_probe_bucket, name, section, str(bucket)))
        elif path:
            results.append(await asyncio.to_thread(_probe_directory, name, Path(str(path))))
    return results


def _probe_directory(name: str, path: Path) -> CheckResult:
    probe = path / f".chorus-doctor-{uuid.uuid4().hex}"
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"probe")
        probe.unlink()
    except OSError as exc:
        return CheckResult(
            f"{name}.store",
            "fail",
            f"cannot write to {path}: {exc.strerror or exc}",
            f"create {path} and make it writable by the user running chorus, "
            f"or point {name}.local_dir elsewhere",
        )
    return CheckResult(f"{name}.store", "pass", f"{path} is writable")


def _probe_bucket(name: str, section: Any, bucket: str) -> CheckResult:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    prefix = str(setting(section, "prefix", default=""))
    key = f"{prefix}.chorus-doctor-{uuid.uuid4().hex}"
    client = boto3.client(
        "s3",
        endpoint_url=setting(section, "endpoint_url", "s3_endpoint_url"),
        region_name=setting(section, "region", "region_name"),
        aws_access_key_id=setting(section, "access_key_id", "aws_access_key_id"),
        aws_secret_access_key=setting(section, "secret_access_key", "aws_secret_access_key"),
    )
    try:
        client.put_object(Bucket=bucket, Key=key, Body=b"probe")
        client.delete_object(Bucket=bucket, Key=key)
    except (BotoCoreError, ClientError) as exc:
        return CheckResult(
            f"{name}.store",
            "fail",
            f"cannot write to s3://{bucket}/{prefix}: {exc}",
            f"check {name}.bucket exists and the credentials may s3:PutObject and "
            "s3:DeleteObject on it",
        )
    return CheckResult(f"{name}.store", "pass", f"s3://{bucket}/{prefix} is writable")
