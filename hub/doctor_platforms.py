"""``chorus doctor`` checks of the outside world: platform credentials and archive stores.

One cheap, read-only API call per enabled channel (Telegram ``getMe``, Slack
``auth.test``, X ``GET /2/users/me``), made with plain HTTP against the configured base
URL, so the same check works against the real platform and a local fake. Config
sections are read defensively (``getattr`` over the likely key names): a channel whose
section is absent or disabled is skipped. A new channel adds itself to
``CREDENTIAL_CHECKS``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

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
    base = str(setting(section, "api_base_url", "base_url", default="https://api.twitter.com"))
    url = base.rstrip("/") + "/2/users/me"
    oauth1 = [
        setting(section, "api_key", "consumer_key"),
        setting(section, "api_secret", "api_key_secret", "consumer_secret"),
        setting(section, "access_token"),
        setting(section, "access_token_secret"),
    ]
    user_token = setting(section, "user_access_token", "oauth2_user_token")
    if all(oauth1):
        header = oauth1_header("GET", url, *oauth1)
    elif user_token:
        header = f"Bearer {user_token}"
    else:
        return _missing("twitter", "access_token")
    try:
        status, body = await _call(ctx, "GET", url, header)
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        return _unreachable("twitter", url, exc)
    data = body.get("data") if isinstance(body, dict) else None
    if status == 200 and isinstance(data, dict):
        return CheckResult("twitter.credentials", "pass", f"users/me: @{data.get('username')}")
    detail = body.get("detail") or body.get("title") if isinstance(body, dict) else None
    return CheckResult(
        "twitter.credentials",
        "fail",
        f"users/me answered {status}: {detail or 'refused'}",
        "regenerate the access token and secret (user context) in the developer portal and "
        "set CHORUS_TWITTER__ACCESS_TOKEN and CHORUS_TWITTER__ACCESS_TOKEN_SECRET",
    )


def oauth1_header(
    method: str, url: str, consumer_key: str, consumer_secret: str, token: str, token_secret: str
) -> str:
    """An OAuth 1.0a HMAC-SHA1 ``Authorization`` header for a request without a body."""

    def enc(value: str) -> str:
        return quote(value, safe="~")

    params = {
        "oauth_consumer_key": consumer_key,
        "oauth_nonce": secrets.token_hex(16),
        "oauth_signature_method": "HMAC-SHA1",
        "oauth_timestamp": str(int(time.time())),
        "oauth_token": token,
        "oauth_version": "1.0",
    }
    pairs = "&".join(f"{enc(k)}={enc(v)}" for k, v in sorted(params.items()))
    base_string = "&".join([method.upper(), enc(url), enc(pairs)])
    key = f"{enc(consumer_secret)}&{enc(token_secret)}".encode()
    digest = hmac.new(key, base_string.encode(), hashlib.sha1).digest()
    params["oauth_signature"] = base64.b64encode(digest).decode()
    return "OAuth " + ", ".join(f'{enc(k)}="{enc(v)}"' for k, v in sorted(params.items()))


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
