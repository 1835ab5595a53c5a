"""``chorus replicate`` and ``chorus sync verify``: keep and check a replica of the inbox."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import click

from hub.config.model import ChorusConfig
from hub.errors import StorageError, StorageMisconfigured
from hub.ops.metrics_http import metrics_listener
from hub.runtime.background import BackgroundLoop
from hub.runtime.logs import redact_text
from hub.runtime.metrics import ReplicationMetrics
from storage.changes import CursorExpired
from storage.mongo import MongoStore, make_client

Loader = Callable[[Path | None], ChorusConfig]
Command = Callable[..., None]


def register(main: click.Group, config_option: Callable[[Command], Command], load: Loader) -> None:
    """Add the replica commands to the ``chorus`` command group."""
    to_option = click.option(
        "--to", "target_uri", required=True, help="MongoDB URI of the replica (mongodb://…)."
    )
    database_option = click.option(
        "--target-database", default=None, help="Replica database (default: mongo.database)."
    )

    @main.command()
    @config_option
    @to_option
    @database_option
    @click.option("--name", default="default", show_default=True, help="Replication stream name.")
    @click.option("--batch-size", type=click.IntRange(1, 10_000), default=500, show_default=True)
    @click.option("--status-seconds", type=float, default=10.0, show_default=True)
    @click.option("--resync", is_flag=True, help="Forget the saved position and copy afresh.")
    @click.option(
        "--metrics-port",
        type=click.IntRange(0, 65535),
        default=None,
        help="Serve /metrics on metrics.host at this port (0: any free port).",
    )
    def replicate(
        config_path: Path | None,
        target_uri: str,
        target_database: str | None,
        name: str,
        batch_size: int,
        status_seconds: float,
        resync: bool,
        metrics_port: int | None,
    ) -> None:
        """Keep the replica at --to in step with the inbox (runs until stopped)."""
        config = load(config_path)
        options = ReplicateOptions(name, batch_size, status_seconds, resync, metrics_port)
        try:
            asyncio.run(_replicate(config, target_uri, target_database, options))
        except CursorExpired:
            raise click.ClickException(
                "the replica's saved position is older than the source's oplog: restart "
                "with --resync, then run `chorus sync verify --repair`"
            ) from None

    @main.group()
    def sync() -> None:
        """Check replicas of the inbox."""

    @sync.command("verify")
    @config_option
    @to_option
    @database_option
    @click.option("--repair", is_flag=True, help="Make the replica equal to the source.")
    def verify(
        config_path: Path | None, target_uri: str, target_database: str | None, repair: bool
    ) -> None:
        """Compare the replica with the inbox by digests; exit 1 while they differ."""
        config = load(config_path)
        ok = asyncio.run(_verify(config, target_uri, target_database, repair))
        if not ok:
            raise SystemExit(1)


@contextlib.asynccontextmanager
async def _databases(
    config: ChorusConfig, target_uri: str, target_database: str | None
) -> AsyncIterator[tuple[MongoStore, MongoStore]]:
    if not config.mongo.uri:
        raise click.ClickException(
            "set mongo.uri (CHORUS_MONGO__URI) to the inbox's database: replicas are made "
            "from a running MongoDB, not from the embedded one"
        )
    timeout = config.mongo.server_selection_timeout_ms
    source = await _reachable(
        "the source (mongo.uri)", config.mongo.uri, config.mongo.database, timeout
    )
    try:
        target = await _reachable(
            "the replica (--to)", target_uri, target_database or config.mongo.database, timeout
        )
    except click.ClickException:
        await source.close()
        raise
    try:
        yield source, target
    finally:
        await source.close()
        await target.close()


@contextlib.asynccontextmanager
async def _metrics(config: ChorusConfig, port: int | None) -> AsyncIterator[ReplicationMetrics]:
    """The replicator's metrics, served on ``metrics.host:port`` when a port is given."""
    metrics = ReplicationMetrics()
    if port is None:
        yield metrics
        return
    token = config.metrics.token.get_secret_value()
    async with metrics_listener(metrics.render, token, config.metrics.host, port) as (host, bound):
        click.echo(f"metrics on http://{host}:{bound}/metrics", err=True)
        yield metrics


async def _reachable(what: str, uri: str, database: str, timeout_ms: int) -> MongoStore:
    """A store for ``uri`` that answered ping; a one-line error naming ``what`` otherwise."""
    shown = redact_text(uri)
    try:
        store = MongoStore(make_client(uri, server_selection_timeout_ms=timeout_ms), database)
    except StorageMisconfigured as exc:
        raise click.ClickException(
            f"{what} is not a valid MongoDB URI ({shown}): {exc.__cause__}; "
            "write it as mongodb://host[:port]/ or mongodb+srv://host/"
        ) from None
    try:
        await store.check()
    except StorageError as exc:
        await store.close()
        reason = str(exc.__cause__).split(",")[0].split(" (configured")[0]
        raise click.ClickException(
            f"cannot reach {what} at {shown} ({reason}): check the host, port and that "
            "MongoDB is running"
        ) from None
    return store


@dataclass(frozen=True, slots=True)
class ReplicateOptions:
    name: str
    batch_size: int
    status_seconds: float
    resync: bool
    metrics_port: int | None = None


async def _replicate(
    config: ChorusConfig,
    target_uri: str,
    target_database: str | None,
    options: ReplicateOptions,
) -> None:
    from storage.replicator import Replicator

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with (
        _databases(config, target_uri, target_database) as (source, target),
        _metrics(config, options.metrics_port) as metrics,
    ):
        replicator = Replicator(
            source.db, target.db, name=options.name, batch_size=options.batch_size, metrics=metrics
        )
        stats = replicator.stats
        if options.resync:
            await replicator.forget_token()
        if await replicator.saved_token() is None:
            click.echo("no saved token: copying the database, then streaming", err=True)
        else:
            click.echo("resuming from the saved token", err=True)

        reported = 0

        async def report() -> None:
            nonlocal reported
            if stats.applied == reported:
                return  # nothing new: a repeated line would read as another change
            click.echo(
                f"applied {stats.applied - reported} more changes ({stats.applied} since "
                f"start), lag {stats.lag_seconds:.3f}s",
                err=True,
            )
            reported = stats.applied

        reporter = BackgroundLoop("sync status", report, interval=options.status_seconds)
        reporter.start()
        try:
            await replicator.run(stop)
        finally:
            await reporter.stop()
        click.echo(f"stopped: copied {stats.copied}, applied {stats.applied} changes", err=True)


async def _verify(
    config: ChorusConfig, target_uri: str, target_database: str | None, fix: bool
) -> bool:
    from storage.replica_check import repair, verify

    async with _databases(config, target_uri, target_database) as (source, target):
        report = await verify(source.db, target.db)
        for line in report.lines():
            click.echo(line)
        if report.ok or not fix:
            return report.ok
        fixed = await repair(source.db, target.db, report.differences)
        click.echo(f"repaired {fixed} documents")
        after = await verify(source.db, target.db)
        click.echo(f"after repair: {len(after.differences)} differences")
        return after.ok
