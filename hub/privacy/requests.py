"""Data-subject requests: a contact's export, and their erasure.

**Export** is one JSON document streamed section by section (contact, conversations,
messages, attachments, comments, ratings, events, bot sessions, bot misses), archived conversations
included, so memory stays bounded by a page. It ends with a ``manifest``: for each section
its item count and the SHA-256 of its items, each in canonical JSON (sorted keys, no
spaces, UTF-8) followed by a newline (``item_digest_line``), so anyone can recompute it.

**Erasure** tombstones the contact everywhere it lives (``storage.personal_data``),
rewrites the archived objects that hold them (``storage.archived_personal``), calls
every registered ``PersonalDataHolder`` (the media store is one), and writes an audit
entry with who asked and why. Backups taken before stay as they are until they expire;
the answer lists them. A legal hold on the contact or any of its conversations refuses
erasure with 409 ``legal_hold``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from hub.domain import utcnow
from hub.errors import ChorusError, NotFound
from hub.sync.feed import extended_json
from storage.archive_store import ArchiveStore
from storage.archived_personal import ArchivedPersonalData
from storage.audit import AuditLog
from storage.backup_expiry import backup_expiries
from storage.legal_holds import LegalHoldStore
from storage.mongo import Document, MongoStore
from storage.personal_data import PersonalDataStore

FORMAT = "chorus-export/1"
SECTIONS = (
    "contact",
    "conversations",
    "messages",
    "attachments",
    "comments",
    "ratings",
    "events",
    "bot_sessions",
    "bot_misses",
)


class LegalHoldError(ChorusError):
    code = "legal_hold"
    status = 409


class PersonalDataHolder(Protocol):
    """Something outside MongoDB and the archive that keeps a person's data (the media store).

    ``erase`` removes what belongs to the contact given the contact document and the
    attachments of their messages (``media_id``, ``sha256``, ``storage_key``, archived
    ones included) and returns how many objects it removed."""

    name: str

    async def erase(self, contact: Document, attachments: list[Document]) -> int: ...


def item_digest_line(item: Any) -> bytes:
    """An export item as the manifest hashes it."""
    text = json.dumps(item, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8") + b"\n"


ATTACHMENT_FIELDS = (
    "kind",
    "name",
    "mime_type",
    "size",
    "url",
    "media_id",
    "sha256",
    "storage_key",
    "thumbnail_key",
    "width",
    "height",
)


def _attachment_refs(message: Document) -> list[Document]:
    return [
        {
            "message_id": message["_id"],
            **{k: a.get(k) for k in ATTACHMENT_FIELDS},
        }
        for a in message.get("attachments") or []
    ]


class _Section:
    def __init__(self, name: str) -> None:
        self.name = name
        self.count = 0
        self.digest = hashlib.sha256()

    def item(self, doc: Any) -> bytes:
        item = extended_json(doc)
        self.digest.update(item_digest_line(item))
        self.count += 1
        return json.dumps(item, ensure_ascii=False).encode("utf-8")


class ContactExport:
    """Streams one contact's export as JSON bytes."""

    def __init__(self, mongo: MongoStore, store: ArchiveStore) -> None:
        self.data = PersonalDataStore(mongo)
        self.archived = ArchivedPersonalData(mongo, store)

    async def contact(self, contact_id: str) -> Document:
        contact = await self.data.contact(contact_id)
        if contact is None:
            raise NotFound(f"contact {contact_id} not found", code="contact_not_found")
        return contact

    async def stream(self, contact: Document) -> AsyncIterator[bytes]:
        """The export, section after section; each section is read page by page, so
        memory is bounded by a page whatever the contact's history."""
        sections = {name: _Section(name) for name in SECTIONS}
        yield f'{{"format": "{FORMAT}", "exported_at": "{utcnow().isoformat()}", '.encode()
        yield b'"contact": ' + sections["contact"].item(contact)
        for name in SECTIONS[1:]:
            yield f', "{name}": ['.encode()
            first = True
            async for doc in self._items(name, contact):
                yield (b"" if first else b", ") + sections[name].item(doc)
                first = False
            yield b"]"
        manifest = {
            "algorithm": "sha256",
            "item_encoding": "JSON, sorted keys, no spaces, UTF-8, a newline after each",
            "sections": {
                name: {"count": s.count, "sha256": s.digest.hexdigest()}
                for name, s in sections.items()
            },
        }
        yield b', "manifest": ' + json.dumps(manifest).encode() + b"}\n"

    async def _items(self, name: str, contact: Document) -> AsyncIterator[Document]:
        if name == "comments":
            async for page in self.data.comment_pages(contact):
                for doc in page:
                    yield doc
            return
        extras = {"events": 0, "ratings": 1, "bot_sessions": 2, "bot_misses": 3}
        async for conversation, messages in self._conversations(contact):
            if name == "conversations":
                yield conversation
            elif name in extras:
                found = await self.data.conversation_extras(conversation)
                for doc in found[extras[name]]:
                    yield doc
            else:
                async for page in messages:
                    for message in page:
                        if name == "messages":
                            yield message
                        else:
                            for ref in _attachment_refs(message):
                                yield ref

    async def _conversations(
        self, contact: Document
    ) -> AsyncIterator[tuple[Document, AsyncIterator[list[Document]]]]:
        """Each conversation with its message pages: MongoDB's, then archived ones that
        are no longer in MongoDB."""
        seen: set[str] = set()
        async for page in self.data.conversation_pages(contact["_id"]):
            for conversation in page:
                seen.add(conversation["_id"])
                yield conversation, self.data.message_pages(conversation)
        async for conversation, messages in self.archived.records(contact["_id"]):
            if conversation["_id"] not in seen:
                yield conversation | {"archived_copy": True}, _one_page(messages)


async def _one_page(messages: list[Document]) -> AsyncIterator[list[Document]]:
    yield messages


@dataclass
class ErasureReport:
    contact_id: str
    at: datetime
    conversations: int = 0
    messages: int = 0
    comments: int = 0
    archive_objects: list[str] = field(default_factory=list)
    holders: dict[str, int] = field(default_factory=dict)
    backups: list[dict[str, str | None]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "contact_id": self.contact_id,
            "erased_at": self.at.isoformat(),
            "erased": {
                "conversations": self.conversations,
                "messages": self.messages,
                "comments": self.comments,
                "archive_objects": len(self.archive_objects),
                **{f"holder:{name}": n for name, n in self.holders.items()},
            },
            "backups_still_holding": self.backups,
        }


class ContactErasure:
    """Erases one contact's personal data; see the module docstring."""

    def __init__(
        self,
        mongo: MongoStore,
        store: ArchiveStore,
        *,
        backups_days: int,
        holders: list[PersonalDataHolder] | None = None,
    ) -> None:
        self.data = PersonalDataStore(mongo)
        self.archived = ArchivedPersonalData(mongo, store)
        self.holds = LegalHoldStore(mongo)
        self.audit = AuditLog(mongo)
        self.store = store
        self.backups_days = backups_days
        self.holders = holders or []

    async def check_holds(self, contact_id: str) -> None:
        """409 ``legal_hold`` when the contact or any of its conversations is held."""
        if await self.holds.get("contact", contact_id):
            raise LegalHoldError(f"contact {contact_id} is under a legal hold")
        async for page in self.data.conversation_pages(contact_id):
            held = await self.holds.held("conversation", [c["_id"] for c in page])
            if held:
                raise LegalHoldError(f"conversation {sorted(held)[0]} is under a legal hold")

    async def erase(
        self, contact_id: str, *, by: str, role: str, reason: str, request_id: str = ""
    ) -> ErasureReport:
        contact = await self.data.contact(contact_id)
        if contact is None:
            raise NotFound(f"contact {contact_id} not found", code="contact_not_found")
        await self.check_holds(contact_id)
        report = ErasureReport(contact_id, utcnow())
        attachments: list[Document] = []
        async for page in self.data.conversation_pages(contact_id):
            for conversation in page:
                async for messages in self.data.message_pages(conversation):
                    attachments += [a for m in messages for a in _attachment_refs(m)]
                report.messages += await self.data.erase_conversation(conversation, report.at)
                report.conversations += 1
        report.comments = await self.data.erase_comments(contact, report.at)
        archived: list[str] = []
        async for conversation, messages in self.archived.records(contact_id):
            archived.append(conversation["_id"])
            attachments += [a for m in messages for a in _attachment_refs(m)]
        report.archive_objects = await self.archived.erase(contact_id, report.at)
        await self.data.forget_archived(archived)
        for holder in self.holders:
            report.holders[holder.name] = await holder.erase(contact, attachments)
        if contact.get("erased") is None:
            await self.data.erase_contact(contact, report.at)
        report.backups = await self._backups_before(report.at)
        await self.audit.record(
            who=by,
            role=role,
            action="erase contact",
            target={"contact_id": contact_id},
            status=200,
            request_id=request_id,
            detail={"reason": reason, **report.as_dict()["erased"]},
        )
        return report

    async def _backups_before(self, at: datetime) -> list[dict[str, str | None]]:
        """Backups taken before ``at`` that have not expired: they still hold the data."""
        return [
            expiry.as_dict()
            for expiry in await backup_expiries(self.store, self.backups_days)
            if expiry.finished_at < at and (expiry.expires_at is None or expiry.expires_at > at)
        ]
