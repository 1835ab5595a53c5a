"""The hub side of comment moderation: feeds the pipeline, stores comments and decisions.

Comments arrive from the public ``POST /comment``, from the API and from public social
posts (``Hub.submit_public_comment``). Each is run through its source's pipeline, then
stored with the decision; only approved comments are ever listed publicly.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from hub.comments.rules import RulesInForce
from hub.domain import InboundMessage, Message, new_id, utcnow
from hub.errors import BadRequest, NotFound
from hub.runtime.metrics import HubMetrics
from moderation import (
    AuthorRecord,
    Classifier,
    Comment,
    Decision,
    Fingerprint,
    ModerationRules,
    PriorComment,
    Source,
)
from storage.comments import CommentStore
from storage.mongo import Document
from storage.webhook_journal import COMMENT_EVENTS, born

log = logging.getLogger(__name__)

ReviewAction = Literal["approve", "reject"]
_TRUST_CAP = 1000  # author records count at most this many comments per status


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:24]


@dataclass(frozen=True, slots=True)
class CommentSubmission:
    """A comment as received, before moderation."""

    text: str
    source: Source
    author_key: str
    author_name: str = ""
    trust_key: str | None = None
    email: str | None = None
    address: str | None = None
    target: str | None = None
    rating: int | None = None
    external: dict[str, str] | None = None
    received_at: datetime = field(default_factory=utcnow)


class StoreContext:
    """The pipeline's view of the past, answered from the ``comments`` collection."""

    def __init__(self, store: CommentStore, classifier: Classifier | None) -> None:
        self.store = store
        self.classifier = classifier

    async def similar_comments(
        self, fingerprint: Fingerprint, since: datetime, limit: int
    ) -> Sequence[PriorComment]:
        docs = await self.store.similar(fingerprint.digest, list(fingerprint.bands), since, limit)
        return [
            PriorComment(
                id=doc["_id"],
                author_key=doc["author"]["key"],
                fingerprint=Fingerprint(doc["digest"], tuple(doc.get("sketch") or ()), ()),
                created_at=doc["created_at"],
            )
            for doc in docs
        ]

    async def count_since(
        self, *, author_key: str | None, address: str | None, since: datetime
    ) -> int:
        address_hash = _digest(address) if address is not None else None
        return await self.store.count_since(
            author_key=author_key, address_hash=address_hash, since=since
        )

    async def author_record(self, trust_key: str) -> AuthorRecord:
        approved = await self.store.count_for_trust(trust_key, "approved", _TRUST_CAP)
        rejected = await self.store.count_for_trust(trust_key, "rejected", _TRUST_CAP)
        return AuthorRecord(approved=approved, rejected=rejected)


@dataclass(frozen=True, slots=True)
class SubmitResult:
    comment: Document
    duplicate: bool


class CommentService:
    """Submits comments through moderation and applies human reviews."""

    # Told of each stored decision (the outbound webhooks' comment events), if set.
    on_decided: Callable[[Document], Awaitable[None]] | None = None

    def __init__(
        self,
        store: CommentStore,
        rules: RulesInForce,
        classifier: Classifier | None = None,
        metrics: HubMetrics | None = None,
    ) -> None:
        self.store = store
        self.rules = rules
        self.context = StoreContext(store, classifier)
        self.metrics = metrics or HubMetrics()

    async def submit(self, submission: CommentSubmission) -> SubmitResult:
        """Moderate and store one comment. Input the size stage refuses is not stored."""
        pipeline = await self.rules.current()
        comment = Comment(
            text=submission.text,
            source=submission.source,
            author_key=submission.author_key,
            author_name=submission.author_name,
            trust_key=submission.trust_key,
            address=submission.address,
            target=submission.target,
            rating=submission.rating,
            received_at=submission.received_at,
        )
        decision = await pipeline.run(comment, self.context)
        channel = (submission.external or {}).get("channel") or submission.source
        self.metrics.moderated(channel, decision.status)
        if decision.status == "rejected" and decision.stage == "size":
            raise BadRequest(
                f"the comment is not acceptable: {decision.reason}", code=decision.reason
            )
        stored, duplicate = await self.store.insert(_comment_doc(submission, decision))
        if not duplicate:
            await self._decided(stored)
        log.info(
            "comment moderated",
            extra={
                "comment_id": stored["_id"],
                "status": decision.status,
                "stage": decision.stage,
                "reason": decision.reason,
            },
        )
        return SubmitResult(stored, duplicate)

    async def submit_public_comment(self, inbound: InboundMessage, message: Message) -> None:
        """A public social post (mention, reply) becomes a comment from source "social"."""
        submission = CommentSubmission(
            text=inbound.text,
            source="social",
            author_key=f"{inbound.channel}:{inbound.sender_id}",
            trust_key=f"{inbound.channel}:{inbound.sender_id}",  # the platform vouches
            author_name=inbound.sender_name or inbound.sender_handle or "",
            external={
                "channel": inbound.channel,
                "message_id": inbound.external_id,
                "stored_message_id": message.id,
            },
            received_at=inbound.created_at,
        )
        try:
            await self.submit(submission)
        except BadRequest as exc:
            log.info("social comment refused", extra={"message_id": message.id, "reason": exc.code})

    async def review(
        self, comment_id: str, action: ReviewAction, reason: str, by: str, role: str
    ) -> Document:
        current = await self.store.get(comment_id)
        if current is None:
            raise NotFound(f"comment {comment_id} not found", code="comment_not_found")
        status = "approved" if action == "approve" else "rejected"
        now = utcnow()
        review = {
            "action": action,
            "reason": reason,
            "by": by,
            "role": role,
            "at": now,
            "from_status": current["status"],
        }
        updated = await self.store.review(comment_id, status, review, now)
        if updated is None:
            raise BadRequest(f"comment {comment_id} is already {status}", code="already_decided")
        log.info("comment reviewed", extra={"comment_id": comment_id, "action": action, "by": by})
        await self._decided(updated)
        return updated

    async def _decided(self, comment: Document) -> None:
        # After the durable write: a failing reaction is logged, the decision stands.
        if self.on_decided is None:
            return
        try:
            await self.on_decided(comment)
        except Exception:
            log.exception("comment decision listener failed", extra={"comment_id": comment["_id"]})

    async def published(
        self, target: str | None, limit: int, cursor: str | None
    ) -> tuple[list[Document], str | None]:
        """A page of a target's published comments, newest first."""
        return await self.store.list_published(target, limit, cursor)

    async def page(
        self, filters: Mapping[str, Any], limit: int, cursor: str | None, *, oldest_first: bool
    ) -> tuple[list[Document], str | None]:
        """A page of comments matching ``filters`` (status, source, target), in id order."""
        return await self.store.list_by_id(filters, limit, cursor, oldest_first=oldest_first)

    async def comment(self, comment_id: str) -> Document | None:
        return await self.store.get(comment_id)

    async def rule_versions(self, limit: int) -> list[Document]:
        """The stored rule versions, newest first: who stored each and when."""
        return await self.store.rule_versions(limit)

    async def stored_rules(self, version: str) -> Document | None:
        return await self.store.load_rules(version)

    async def replace_rules(self, rules: ModerationRules, by: str) -> str:
        return (await self.rules.replace(rules, by)).version


def _comment_doc(submission: CommentSubmission, decision: Decision) -> Document:
    now = utcnow()
    doc: dict[str, Any] = {
        "_id": new_id(),
        "source": submission.source,
        "status": decision.status,
        "text": decision.text,
        "author": {
            "key": submission.author_key,
            "name": submission.author_name,
            "trust_key": submission.trust_key,
        },
        "email": submission.email,
        "address_hash": _digest(submission.address) if submission.address else None,
        "target": submission.target,
        "rating": submission.rating,
        "external": submission.external,
        "created_at": submission.received_at,
        "digest": decision.fingerprint.digest,
        "sketch": list(decision.fingerprint.sketch),
        "bands": list(decision.fingerprint.bands),
        "decision": {**decision.as_record(), "decided_at": now},
        "reviews": [],
    }
    if decision.status == "approved":
        doc["published_at"] = now
    # The insert owes the decision's webhook event (storage/webhook_journal.py).
    return doc | born(COMMENT_EVENTS[decision.status], f"evt_comment_{doc['_id']}")


def web_trust_key(author_key: str, author_token: str) -> str:
    """A web author's trust identity: their key (email or address) with the secret author
    token the hub gave them. Someone who gives another's email has not got that token."""
    return "web:" + _digest(f"{author_key}\x00{author_token}")


def author_key(email: str | None, address: str | None, fallback: str) -> str:
    """Web authors are known by email when given (pseudonymized), else by client address."""
    if email:
        return "email:" + _digest(email.strip().lower())
    if address:
        return "address:" + _digest(address)
    return fallback
