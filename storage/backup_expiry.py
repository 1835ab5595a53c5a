"""When backups expire, and deleting them: what "a backup holds erased data until it
expires" means.

Backups form chains (a full backup, then incrementals whose parent is the previous one);
a chain is restorable only whole, so it expires whole: ``days`` after its last backup,
and never while it is the newest chain (there must always be a backup to restore).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.archive_store import ArchiveStore
from storage.backup import manifest_key
from storage.jsonl import loads
from storage.mongo import Document


@dataclass(frozen=True)
class BackupExpiry:
    backup_id: str
    kind: str
    finished_at: datetime
    expires_at: datetime | None  # None: the newest chain, kept until a newer one exists

    def as_dict(self) -> dict[str, str | None]:
        return {
            "backup_id": self.backup_id,
            "kind": self.kind,
            "finished_at": self.finished_at.isoformat(),
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
        }


async def backup_expiries(store: ArchiveStore, days: int) -> list[BackupExpiry]:
    """Every finished backup in the store with its expiry, oldest first."""
    keys = sorted(k for k in await store.list("backups/") if k.endswith("/manifest.json"))
    manifests = [loads(await store.get(key)) for key in keys]
    by_id = {m["id"]: m for m in manifests if m.get("finished_at")}

    def root(backup_id: str) -> str:
        parent = by_id[backup_id].get("parent")
        while parent in by_id:
            backup_id, parent = parent, by_id[parent].get("parent")
        return backup_id

    chains: dict[str, list[Document]] = defaultdict(list)
    for manifest in by_id.values():
        chains[root(manifest["id"])].append(manifest)
    newest = root(max(by_id)) if by_id else None
    found = []
    for chain_root, members in chains.items():
        last: datetime = max(m["finished_at"] for m in members)
        expires = None if chain_root == newest else last + timedelta(days=days)
        found += [
            BackupExpiry(str(m["id"]), str(m["kind"]), m["finished_at"], expires) for m in members
        ]
    return sorted(found, key=lambda e: e.finished_at)


async def delete_backup(store: ArchiveStore, backup_id: str) -> int:
    """Remove a backup's objects, its manifest last (so a half-done delete is retried)."""
    manifest = manifest_key(backup_id)
    keys = [k for k in await store.list(f"backups/{backup_id}/") if k != manifest]
    for key in keys:
        await store.delete(key)
    await store.delete(manifest)
    return len(keys) + 1
