"""``chorus contact export|erase`` and ``chorus retention run``: data-subject requests and
retention from the command line, against the configured database and archive store."""

from __future__ import annotations

import asyncio
import getpass
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar

import click

from hub.config.model import ChorusConfig
from hub.core.media import media_personal_data
from hub.errors import ChorusError
from hub.ops.database import connected
from hub.privacy.requests import ContactErasure, ContactExport
from hub.privacy.retention import retention_for
from hub.runtime.logs import setup_command_logging
from storage.archive_store import ArchiveStoreError, open_archive_store
from storage.mongo import MongoStore

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


class Decorator(Protocol):
    def __call__(self, function: F, /) -> F: ...


def _run(config: ChorusConfig, work: Callable[[MongoStore], Awaitable[T]]) -> T:
    async def main() -> T:
        async with connected(config) as mongo:
            return await work(mongo)

    setup_command_logging(config.logging.level, config.logging.json_format)
    try:
        return asyncio.run(main())
    except ChorusError as exc:
        raise click.ClickException(f"{exc.code}: {exc.message}") from None
    except ArchiveStoreError as exc:
        raise click.ClickException(str(exc)) from None


def register(
    main: click.Group, load: Callable[[Path | None], ChorusConfig], option: Decorator
) -> None:
    @main.group()
    def contact() -> None:
        """A contact's data: export it, erase it."""

    @contact.command("export")
    @option
    @click.argument("contact_id")
    @click.option(
        "--output",
        "-o",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        help="Write the JSON here instead of standard output.",
    )
    def contact_export(config_path: Path | None, contact_id: str, output: Path | None) -> None:
        """Everything about CONTACT_ID as one JSON document with a SHA-256 manifest."""
        config = load(config_path)

        async def work(mongo: MongoStore) -> None:
            export = ContactExport(mongo, open_archive_store(config.archive))
            doc = await export.contact(contact_id)
            sink = output.open("wb") if output else sys.stdout.buffer
            try:
                async for chunk in export.stream(doc):
                    sink.write(chunk)
            finally:
                if output:
                    sink.close()
                else:
                    sink.flush()

        _run(config, work)

    @contact.command("erase")
    @option
    @click.argument("contact_id")
    @click.option("--reason", required=True, help="Why (kept in the audit log).")
    @click.option("--by", default=None, help="Who asks (default: the system user).")
    def contact_erase(
        config_path: Path | None, contact_id: str, reason: str, by: str | None
    ) -> None:
        """Erase CONTACT_ID's personal data everywhere; prints what was erased."""
        config = load(config_path)

        async def work(mongo: MongoStore) -> dict[str, Any]:
            erasure = ContactErasure(
                mongo,
                open_archive_store(config.archive),
                backups_days=config.retention.backups_days,
                holders=[media_personal_data(config.media, mongo)],
            )
            who = by or f"cli:{getpass.getuser()}"
            report = await erasure.erase(contact_id, by=who, role="admin", reason=reason)
            return report.as_dict()

        click.echo(json.dumps(_run(config, work), indent=2))

    @main.group()
    def retention() -> None:
        """Apply the retention policy (``retention`` in config)."""

    @retention.command("run")
    @option
    @click.option("--dry-run", is_flag=True, help="Print what would go; delete nothing.")
    def retention_run(config_path: Path | None, dry_run: bool) -> None:
        """Delete what has outlived the policy (archived conversations, rejected
        comments, audit entries, expired backups), sparing legal holds."""
        config = load(config_path)

        async def work(mongo: MongoStore) -> dict[str, Any]:
            store = open_archive_store(config.archive)
            report = await retention_for(mongo, config.retention, store).run(dry_run=dry_run)
            return report.as_dict()

        click.echo(json.dumps(_run(config, work), indent=2))
