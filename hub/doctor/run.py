"""``chorus doctor``: check a configuration without starting the hub.

Each check returns rows of pass / warn / fail / skip with, for anything not passing, the
fix. Features contribute checks through ``doctor_check`` (whole-config checks); each
channel declares its credential check (one cheap API call) in its ``ChannelSpec``, run
for every enabled channel of the registry (``hub.doctor.platforms``).

"Production" means ``--production`` was given or the hub listens on a non-loopback
address; some findings (a standalone database, an open /metrics) only warn or fail there.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

import aiohttp

from hub.channels.checks import CheckResult, ProbeContext, Status
from hub.config.model import ChorusConfig, jwt_secret_problem
from hub.doctor.platforms import check_channels, check_stores
from hub.errors import StorageError, StorageMisconfigured, StorageRefused
from storage.probe import DatabaseProbe, ServerHello

__all__ = ["CheckResult", "DoctorContext", "doctor_check", "render", "run_doctor"]

CLOCK_SKEW_WARN_SECONDS = 1.0
CLOCK_SKEW_FAIL_SECONDS = 5.0


@dataclass
class DoctorContext:
    """What every check gets: the config, the mode, a time budget and an HTTP session."""

    config: ChorusConfig
    production: bool
    timeout: float
    http: aiohttp.ClientSession
    facts: dict[str, Any] = field(default_factory=dict)


Check = Callable[[DoctorContext], Awaitable[list[CheckResult]]]
CHECKS: list[Check] = []


def doctor_check(check: Check) -> Check:
    """Register a check run by ``chorus doctor`` (in registration order)."""
    CHECKS.append(check)
    return check


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def run_doctor(
    config: ChorusConfig, *, production: bool = False, check_seconds: float = 5.0
) -> list[CheckResult]:
    """Run every registered check; a check that raises is reported as a failure."""
    production = production or not is_loopback(config.http.host)
    results: list[CheckResult] = []
    budget = aiohttp.ClientTimeout(total=check_seconds)
    async with aiohttp.ClientSession(timeout=budget) as http:
        context = DoctorContext(config, production, check_seconds, http)
        for check in CHECKS:
            try:
                results.extend(await check(context))
            except Exception as exc:
                name = getattr(check, "__name__", "check").removeprefix("check_")
                results.append(
                    CheckResult(name, "fail", f"the check itself failed: {exc!r}", "report this")
                )
    return results


def render(results: list[CheckResult]) -> str:
    """A plain-text table, with the fix under each row that did not pass."""
    width = max((len(r.name) for r in results), default=5)
    lines = [f"{'CHECK'.ljust(width)}  RESULT  DETAIL"]
    for result in results:
        lines.append(f"{result.name.ljust(width)}  {result.status.upper():<6}  {result.detail}")
        if result.fix and result.status in ("fail", "warn"):
            lines.append(f"{''.ljust(width)}  {'':<6}  fix: {result.fix}")
    failed = sum(r.status == "fail" for r in results)
    warned = sum(r.status == "warn" for r in results)
    lines.append(f"\n{failed} failed, {warned} warnings, {len(results)} checks")
    return "\n".join(lines)


@doctor_check
async def check_database(ctx: DoctorContext) -> list[CheckResult]:
    """Reachable, a replica set, the write concern, clock skew and indexes."""
    mongo = ctx.config.mongo
    if not mongo.uri:
        status: Status = "fail" if ctx.production else "warn"
        return [
            CheckResult(
                "mongo.reachable",
                status,
                "mongo.uri is empty: the hub would run the embedded development database",
                "set mongo.uri (CHORUS_MONGO__URI) to a MongoDB 7+ replica set",
            )
        ]
    try:
        probe = DatabaseProbe(mongo.uri, mongo.database, ctx.timeout)
    except StorageMisconfigured as exc:
        return [
            CheckResult(
                "mongo.reachable",
                "fail",
                f"mongo.uri is not a valid MongoDB URI: {exc.__cause__}",
                "use mongodb://host1,host2,host3/?replicaSet=rs0 (set CHORUS_MONGO__URI)",
            )
        ]
    try:
        return await _database_checks(ctx, probe)
    finally:
        await probe.close()


async def _database_checks(ctx: DoctorContext, probe: DatabaseProbe) -> list[CheckResult]:
    try:
        hello = await probe.hello()
    except StorageRefused as exc:
        return [
            CheckResult(
                "mongo.reachable",
                "fail",
                f"the server refused us: {exc.__cause__}",
                "check the user, password and authSource in mongo.uri",
            )
        ]
    except StorageError as exc:
        return [
            CheckResult(
                "mongo.reachable",
                "fail",
                f"cannot reach the database: {str(exc.__cause__).split(' (configured')[0][:200]}",
                "check host and port in mongo.uri, that MongoDB runs and that this host may "
                "connect (firewall, TLS options, DNS)",
            )
        ]
    answered = hello.received - hello.sent
    results = [CheckResult("mongo.reachable", "pass", f"answered in {answered:.3f}s")]
    results.append(_replica_set(ctx, hello))
    results.append(_write_concern(ctx))
    results.append(_clock_skew(hello))
    results.append(await _indexes(probe))
    return results


def _replica_set(ctx: DoctorContext, hello: ServerHello) -> CheckResult:
    name = hello.set_name
    if name:
        hosts = hello.hosts
        return CheckResult("mongo.replica_set", "pass", f"replica set {name!r}, {hosts} members")
    return CheckResult(
        "mongo.replica_set",
        "warn" if ctx.production else "pass",
        "standalone server: no failover, no majority durability",
        "run a three-member replica set and list its members in mongo.uri with replicaSet=",
    )


def _write_concern(ctx: DoctorContext) -> CheckResult:
    concern = ctx.config.mongo.write_concern
    if concern == "majority" or not ctx.production:
        return CheckResult("mongo.write_concern", "pass", f"w={concern}")
    return CheckResult(
        "mongo.write_concern",
        "warn",
        "w=1: an acknowledged message can be lost when the primary fails",
        "set mongo.write_concern: majority",
    )


def _clock_skew(hello: ServerHello) -> CheckResult:
    server_time, sent, received = hello.local_time, hello.sent, hello.received
    if server_time is None:
        return CheckResult("clock.skew", "skip", "the server did not report its time")
    if server_time.tzinfo is None:
        server_time = server_time.replace(tzinfo=UTC)
    # The server read its clock somewhere in the round trip; its middle is the best guess.
    skew = server_time.timestamp() - (sent + received) / 2
    uncertainty = (received - sent) / 2
    detail = f"{skew:+.3f}s against the database (±{uncertainty:.3f}s)"
    fix = "run NTP (chrony or systemd-timesyncd) on the hub hosts and the database servers"
    if abs(skew) - uncertainty > CLOCK_SKEW_FAIL_SECONDS:
        return CheckResult("clock.skew", "fail", detail, fix)
    if abs(skew) - uncertainty > CLOCK_SKEW_WARN_SECONDS:
        return CheckResult("clock.skew", "warn", detail, fix)
    return CheckResult("clock.skew", "pass", detail)


async def _indexes(probe: DatabaseProbe) -> CheckResult:
    check = await probe.indexes()
    missing, total = check.missing, check.total
    if missing:
        return CheckResult(
            "mongo.indexes",
            "fail",
            f"{len(missing)} of {total} missing: {', '.join(missing[:6])}"
            + (" …" if len(missing) > 6 else ""),
            "run `chorus db init` (the hub also creates them at start-up)",
        )
    return CheckResult("mongo.indexes", "pass", f"all {total} present")


@doctor_check
async def check_exposure(ctx: DoctorContext) -> list[CheckResult]:
    """Metrics and the JWT secret as several instances behind a load balancer need them."""
    config = ctx.config
    results: list[CheckResult] = []
    metrics = config.metrics
    if not metrics.enabled:
        results.append(CheckResult("metrics.exposure", "skip", "metrics are disabled"))
    elif metrics.port is not None:
        where = f"{metrics.host}:{metrics.port}"
        results.append(CheckResult("metrics.exposure", "pass", f"own listener on {where}"))
    elif metrics.token.get_secret_value():
        results.append(CheckResult("metrics.exposure", "pass", "main port, bearer token"))
    elif not metrics.public:
        results.append(
            CheckResult(
                "metrics.exposure",
                "pass",
                "/metrics is refused on the main port (no metrics.token, metrics.public off)",
            )
        )
    else:
        results.append(
            CheckResult(
                "metrics.exposure",
                "fail" if ctx.production else "pass",
                "/metrics is open on the main port",
                "set metrics.token (CHORUS_METRICS__TOKEN) or metrics.port on a private address",
            )
        )
    auth = config.auth
    weak = _weak_secret_file(config)
    if weak:
        results.append(
            CheckResult(
                "auth.jwt_secret",
                "fail",
                f"{auth.jwt_secret_file} {weak}",
                "put 32 or more random bytes in it, or set CHORUS_AUTH__JWT_SECRET",
            )
        )
    elif auth.algorithm == "HS256" and not auth.jwt_secret.get_secret_value() and ctx.production:
        results.append(
            CheckResult(
                "auth.jwt_secret",
                "warn",
                f"secret read from {auth.jwt_secret_file}, which each instance creates for itself",
                "give every instance the same CHORUS_AUTH__JWT_SECRET",
            )
        )
    else:
        results.append(CheckResult("auth.jwt_secret", "pass", f"{auth.algorithm} configured"))
    return results


def _weak_secret_file(config: ChorusConfig) -> str | None:
    """Why the JWT secret file the hub would read cannot be used (a configured secret was
    already checked when the configuration loaded)."""
    auth = config.auth
    if auth.jwt_secret.get_secret_value() or not auth.jwt_secret_file.exists():
        return None
    return jwt_secret_problem(auth.jwt_secret_file.read_text(encoding="utf-8").strip())


@doctor_check
async def check_platforms(ctx: DoctorContext) -> list[CheckResult]:
    """Each enabled channel's credentials, with the one cheap call its spec declares."""
    return await check_channels(ctx.config, ProbeContext(ctx.http, ctx.timeout))


@doctor_check
async def check_archive_stores(ctx: DoctorContext) -> list[CheckResult]:
    """Each configured archive or backup store accepts a write (then the probe is deleted)."""
    return await check_stores(ctx.config)


def run_doctor_sync(
    config: ChorusConfig, *, production: bool = False, timeout: float = 5.0
) -> list[CheckResult]:
    return asyncio.run(run_doctor(config, production=production, check_seconds=timeout))
