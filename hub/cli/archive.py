"""``chorus archive``, ``chorus backup`` and ``chorus restore``: the archive store's commands."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

import click

from hub.config.model import ChorusConfig
from hub.ops.database import connected
from hub.runtime.logs import setup_command_logging
from storage.archive_store import ArchiveStoreError, open_archive_store
from storage.archiver import ArchiveNotFound, Archiver
from storage.backup import BackupError, BackupService, RestoreResult
from storage.change_capture import ChangeHistoryLost
from storage.leases import LeaseUnavailable
from storage.mongo import MongoStore

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


class Decorator(Protocol):
    def __call__(self, function: F, /) -> F: ...


FAILURES = (
    ArchiveStoreError,
    ArchiveNotFound,
    BackupError,
    ChangeHistoryLost,
    LeaseUnavailable,
)


def _run(config: ChorusConfig, work: Callable[[MongoStore], Awaitable[T]]) -> T:
    async def main() -> T:
        async with connected(config) as mongo:
            return await work(mongo)

    setup_command_logging(config.logging.level, config.logging.json_format)  # progress when piped
    try:
        return asyncio.run(main())
    except FAILURES as exc:
        raise click.ClickException(str(exc)) from None


def _when(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise click.BadParameter(f"{text!r} is not an ISO 8601 time") from exc
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _archiver(config: ChorusConfig, mongo: MongoStore) -> Archiver:
    return Archiver(
        mongo,
        open_archive_store(config.archive),
        after_days=config.archive.after_days,
        delete_after_archive=config.archive.delete_after_archive,
    )


def register(
    main: click.Group, load: Callable[[Path | None], ChorusConfig], option: Decorator
) -> None:
    """Add the commands to the ``chorus`` group (``load`` reads config, ``option`` is --config)."""

    @main.group()
    def archive() -> None:
        """Move resolved conversations to the archive store and back."""

    @archive.command("run")
    @option
    def archive_run(config_path: Path | None) -> None:
        """Archive conversations resolved more than archive.after_days ago."""
        config = load(config_path)
        report = _run(config, lambda mongo: _archiver(config, mongo).run())
        click.echo(
            f"archived {report.conversations} conversations, {report.messages} messages "
            f"in {len(report.objects)} objects (runs: {', '.join(report.runs) or 'none'})"
        )

    @archive.command("restore")
    @option
    @click.option("--conversation", "conversation_id", default=None, help="One conversation.")
    @click.option(
        "--range", "time_range", nargs=2, default=None, metavar="FROM TO",
        help="Conversations resolved in [FROM, TO), ISO 8601 times.",
    )  # fmt: skip
    def archive_restore(
        config_path: Path | None, conversation_id: str | None, time_range: tuple[str, str] | None
    ) -> None:
        """Bring archived conversations back into the inbox exactly as they were."""
        if (conversation_id is None) == (time_range is None):
            raise click.UsageError("give exactly one of --conversation or --range")
        config = load(config_path)

        async def work(mongo: MongoStore) -> tuple[int, int]:
            archiver = _archiver(config, mongo)
            if conversation_id is not None:
                return await archiver.restore_conversation(conversation_id)
            assert time_range is not None
            return await archiver.restore_range(_when(time_range[0]), _when(time_range[1]))

        conversations, messages = _run(config, work)
        click.echo(f"restored {conversations} conversations, {messages} messages")

    @main.command()
    @option
    @click.option("--incremental", is_flag=True, help="Only the changes since the last backup.")
    def backup(config_path: Path | None, incremental: bool) -> None:
        """Back up every collection to the archive store."""
        config = load(config_path)

        async def work(mongo: MongoStore) -> dict[str, Any]:
            service = BackupService(mongo.db, open_archive_store(config.archive))
            return await (service.incremental() if incremental else service.full())

        manifest = _run(config, work)
        click.echo(
            f"backup {manifest['id']} ({manifest['kind']}) at {manifest['fence']['wall_time']}"
        )

    @main.command()
    @option
    @click.option("--backup", "backup_id", required=True, help="The backup to restore to.")
    @click.option("--until", default=None, help="Stop at this time (ISO 8601).")
    @click.option("--into", default=None, help="Target database (default mongo.database).")
    def restore(
        config_path: Path | None, backup_id: str, until: str | None, into: str | None
    ) -> None:
        """Rebuild an empty database from a backup chain, then verify it."""
        config = load(config_path)
        until_at = _when(until) if until else None

        async def work(mongo: MongoStore) -> RestoreResult:
            service = BackupService(mongo.db, open_archive_store(config.archive))
            target = mongo.client.get_database(into or config.mongo.database)
            return await service.restore(target, backup_id, until_at)

        result = _run(config, work)
        click.echo(describe(result))
        if not result.ok:
            raise click.ClickException("the restored database does not match the backup")


def describe(result: RestoreResult) -> str:
    """The restore's verification as a table."""
    lines = [f"restored {' + '.join(result.backups)}; verified against {result.verified_against}"]
    for name, entry in result.collections.items():
        verdict = {True: "ok", False: "MISMATCH", None: "not checked"}[entry["ok"]]
        lines.append(
            f"  {name:<24} {entry['count']:>9} docs (expected {entry['expected_count']})  "
            f"{entry['digest'][:16]}  {verdict}"
        )
    if result.changes_after_verification:
        lines.append(f"then applied {result.changes_after_verification} changes up to --until")
    return "\n".join(lines)
