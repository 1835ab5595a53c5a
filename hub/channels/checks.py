"""What a ``chorus doctor`` check reports, and what a channel's credential check gets.

Kept apart from ``hub.doctor.run`` (which reaches the database) so that channel packages can
declare their check without importing storage.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

import aiohttp

Status = Literal["pass", "warn", "fail", "skip"]


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One line of the report."""

    name: str
    status: Status
    detail: str
    fix: str = ""


@dataclass(frozen=True, slots=True)
class ProbeContext:
    """What a credential check may use: an HTTP session and its time budget in seconds."""

    http: aiohttp.ClientSession
    timeout: float


CredentialCheck = Callable[[Any, ProbeContext], Awaitable[CheckResult]]

# What a probe's call may raise when the platform cannot be reached or answers garbage.
UNREACHABLE = (aiohttp.ClientError, TimeoutError, ValueError)


async def call_json(
    ctx: ProbeContext, method: str, url: str, authorization: str | None = None
) -> tuple[int, Any]:
    """One API call: the HTTP status and the decoded JSON body."""
    headers = {"Authorization": authorization} if authorization else {}
    async with ctx.http.request(method, url, headers=headers) as resp:
        return resp.status, await resp.json(content_type=None)


def missing_setting(channel: str, key: str) -> CheckResult:
    return CheckResult(
        f"{channel}.credentials",
        "fail",
        f"{channel}.{key} is empty",
        f"set CHORUS_{channel.upper()}__{key.upper()} in the environment",
    )


def unreachable(channel: str, url: str, exc: Exception) -> CheckResult:
    return CheckResult(
        f"{channel}.credentials",
        "fail",
        f"cannot reach {url.split('?')[0]}: {type(exc).__name__}",
        f"check {channel}.api_base_url and this host's outbound network",
    )
