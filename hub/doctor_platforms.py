"""``chorus doctor`` checks of the outside world: platform credentials and archive stores.

One cheap, read-only API call per enabled channel (Telegram ``getMe``, Slack
``auth.test``, X ``GET /2/users/me``) against the configured base URL, so the same check
works against the real platform and a local fake. X is called through the adapter's own
client, so the doctor signs (OAuth 1.0a) exactly as the channel does. Config
sections are read defensively (``getattr`` over the likely key names): a channel whose
section is absent or disabled is skipped. A new channel adds itself to
``CREDENTIAL_CHECKS``.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp

from hub.doctor import CheckResult, DoctorContext, doctor_check

CredentialCheck = Callable[[Any, DoctorContext], Awaitable[CheckResult]]
CREDENTIAL_CHECKS: dict[str, CredentialCheck] = {}
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


def credential_check(channel: str) -> Callable[[CredentialCheck], CredentialCheck]:
    def register(check: CredentialCheck) -> CredentialCheck:
        CREDENTIAL_CHECKS[channel] = check
        return check

    return register


async def _call(
    ctx: DoctorContext, method: str, url: str, authorization: str | None = None
) -> tuple[int, Any]:
    """One API call: the HTTP status and the decoded JSON body."""
    headers = {"Authorization": authorization} if authorization else {}
    async with ctx.http.request(method, url, headers=headers) as resp:
        return resp.status, await resp.json(content_type=None)


def _missing(channel: str, key: str) -> CheckResult:
    return CheckResult(
        f"{channel}.credentials",
        "fail",
        f"{channel}.{key} is empty",
        f"set CHORUS_{channel.upper()}__{key.upper()} in the environment",
    )


def _unreachable(channel: str, url: str, exc: Exception) -> CheckResult:
    return CheckResult(
        f"{channel}.credentials",
        "fail",
        f"cannot reach {url.split('?')[0]}: {type(exc).__name__}",
        f"check {channel}.api_base_url and this host's outbound network",
    )


@credential_check("telegram")
async def check_telegram(section: Any, ctx: DoctorContext) -> CheckResult:
    token = setting(section, "bot_token", "token")
    if not token:
        return _missing("telegram", "bot_token")
    base = str(setting(section, "api_base_url", "base_url", default="https://api.telegram.org"))
    base = base.rstrip("/")
    url = f"{base}{token}/getMe" if base.endswith("/bot") else f"{base}/bot{token}/getMe"
    try:
        _, body = await _call(ctx, "GET", url)
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        return _unreachable("telegram", base, exc)
    if isinstance(body, dict) and body.get("ok"):
        username = (body.get("result") or {}).get("username", "?")
        return CheckResult("telegram.credentials", "pass", f"getMe: bot @{username}")
    described = body.get("description", "refused") if isinstance(body, dict) else "refused"
    return CheckResult(
        "telegram.credentials",
        "fail",
        f"getMe refused the token: {described}",
        "copy the bot token from @BotFather into CHORUS_TELEGRAM__BOT_TOKEN",
    )


@credential_check("slack")
async def check_slack(section: Any, ctx: DoctorContext) -> CheckResult:
    token = setting(section, "bot_token", "token")
    if not token:
        return _missing("slack", "bot_token")
    base = str(setting(section, "api_base_url", "base_url", default="https://slack.com/api"))
    url = base.rstrip("/") + "/auth.test"
    try:
        _, body = await _call(ctx, "POST", url, f"Bearer {token}")
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        return _unreachable("slack", url, exc)
    if isinstance(body, dict) and body.get("ok"):
        return CheckResult(
            "slack.credentials", "pass", f"auth.test: {body.get('user')} in {body.get('team')}"
        )
    error = body.get("error", "refused") if isinstance(body, dict) else "refused"
    return CheckResult(
        "slack.credentials",
        "fail",
        f"auth.test refused the token: {error}",
        "install the app to the workspace and copy its Bot User OAuth Token (xoxb-…) into "
        "CHORUS_SLACK__BOT_TOKEN",
    )


@credential_check("twitter")
async def check_twitter(section: Any, ctx: DoctorContext) -> CheckResult:
    """``GET /2/users/me`` through the adapter's own client: the signing the channel uses."""
    from adapters.twitter.client import check_account

    base = str(setting(section, "api_base_url", "base_url", default="https://api.twitter.com"))
    oauth1 = {
        "consumer_key": setting(section, "api_key", "consumer_key"),
        "consumer_secret": setting(section, "api_secret", "api_key_secret", "consumer_secret"),
        "access_token": setting(section, "access_token"),
        "access_token_secret": setting(section, "access_token_secret"),
    }
    user_token = setting(section, "user_access_token", "oauth2_user_token")
    if all(oauth1.values()):
        credentials, user_auth = oauth1, True
    elif user_token:
        credentials, user_auth = {"bearer_token": user_token}, False
    else:
        return _missing("twitter", "access_token")
    try:
        ok, detail = await check_account(base, ctx.timeout, user_auth=user_auth, **credentials)
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        return _unreachable("twitter", base.rstrip("/") + "/2/users/me", exc)
    if ok:
        return CheckResult("twitter.credentials", "pass", f"users/me: {detail}")
    return CheckResult(
        "twitter.credentials",
        "fail",
        f"users/me refused: {detail}",
        "regenerate the access token and secret (user context) in the developer portal and "
        "set CHORUS_TWITTER__ACCESS_TOKEN and CHORUS_TWITTER__ACCESS_TOKEN_SECRET",
    )


@doctor_check
async def check_platforms(ctx: DoctorContext) -> list[CheckResult]:
    """Each enabled channel's credentials, with one cheap API call."""
    results = []
    for channel, check in CREDENTIAL_CHECKS.items():
        section = getattr(ctx.config, channel, None)
        if section is None or not getattr(section, "enabled", False):
            results.append(CheckResult(f"{channel}.credentials", "skip", "channel not enabled"))
            continue
        results.append(await check(section, ctx))
    return results


@doctor_check
async def check_stores(ctx: DoctorContext) -> list[CheckResult]:
    """Each configured archive or backup store accepts a write (then the probe is deleted)."""
    results = []
    for name in STORE_SECTIONS:
        section = getattr(ctx.config, name, None)
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
