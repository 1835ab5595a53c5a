"""Offline work pushed by a device: new messages and conversation state changes.

Messages carry client-generated ids and are append-only: a message id already stored
(the unique ``(channel, external_id)`` index) is answered with the stored message, so a
batch pushed twice, or a message repeated within one, is stored once. State changes
follow one rule, *later server time wins*: every field remembers the server time it last
changed (``changed_at``); a pushed change names the conversation's ``updated_at`` the
device last saw (``based_on``), and a field changed on the server after that keeps its
server value (reported as a conflict).
Re-pushing a change that is already in place is reported as unchanged, not a conflict.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from hub.core.hub import Hub
from hub.domain import Author, ConversationStatus
from hub.errors import BadRequest, NotFound
from hub.http.json_api import not_null
from hub.runtime.events import InboxEvent
from storage.inbox import conversation_from_doc
from storage.webhook_journal import transition_owed

ClientId = Field(min_length=8, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")


class PushedMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = ClientId
    conversation_id: str = Field(min_length=1, max_length=64)
    text: str = Field(min_length=1, max_length=20_000)
    private: bool = False

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("text cannot be blank")
        return value


class PushedState(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra=not_null("status", one_of=("status", "assignee"))
    )

    conversation_id: str = Field(min_length=1, max_length=64)
    based_on: datetime
    status: ConversationStatus | None = None
    assignee: str | None = Field(default=None, max_length=200)

    @field_validator("based_on")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("based_on needs a timezone")
        return value

    @model_validator(mode="after")
    def _something(self) -> PushedState:
        if not self.model_fields_set & {"status", "assignee"}:
            raise ValueError("a state change needs status or assignee")
        if "status" in self.model_fields_set and self.status is None:
            raise ValueError("status cannot be null")
        return self

    def fields(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("status", "assignee") if k in self.model_fields_set}


class PushBatch(BaseModel):
    # A push carries at least one message or state change (``empty_push`` otherwise).
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "anyOf": [
                {"required": [key], "properties": {key: {"minItems": 1}}}
                for key in ("messages", "states")
            ]
        },
    )

    messages: list[PushedMessage] = Field(default_factory=list)
    states: list[PushedState] = Field(default_factory=list)


FieldOutcome = Literal["applied", "unchanged", "conflict"]


async def apply_push(hub: Hub, batch: PushBatch, author: Author, max_items: int) -> dict[str, Any]:
    """Validate the whole batch, then store its messages and apply its state changes."""
    if not batch.messages and not batch.states:
        raise BadRequest("nothing to push", code="empty_push")
    if len(batch.messages) + len(batch.states) > max_items:
        raise BadRequest(f"push at most {max_items} items at once", code="push_too_large")
    referenced = {m.conversation_id for m in batch.messages}
    referenced |= {s.conversation_id for s in batch.states}
    for conversation_id in sorted(referenced):  # nothing is stored if one is unknown
        if await hub.store.get_conversation(conversation_id) is None:
            raise NotFound(f"conversation {conversation_id} not found")
    messages = []
    for item in batch.messages:
        stored = await hub.reply(
            item.conversation_id, author, item.text, private=item.private, client_id=item.id
        )
        messages.append(
            {"id": item.id, "message_id": stored.id, "conversation_id": stored.conversation_id}
        )
    states = [await _apply_state(hub, state) for state in batch.states]
    return {"messages": messages, "states": states}


async def _apply_state(hub: Hub, state: PushedState) -> dict[str, Any]:
    wanted = state.fields()
    outcome: dict[str, FieldOutcome] = {}
    for _ in range(3):  # a concurrent change between read and write: decide again
        current = await hub.store.conversation_document(state.conversation_id)
        if current is None:
            raise NotFound(f"conversation {state.conversation_id} not found")
        changed_at = current.get("changed_at", {})
        todo: dict[str, Any] = {}
        for field, value in wanted.items():
            if current.get(field) == value:
                outcome[field] = "unchanged"
            elif field in changed_at and changed_at[field] > state.based_on:
                outcome[field] = "conflict"
            else:
                todo[field] = value
        if not todo:
            break
        try:
            updated = await hub.store.update_conversation(
                state.conversation_id,
                todo,
                unless_changed_after=state.based_on,
                events=transition_owed(conversation_from_doc(current), todo),
            )
        except ValueError as exc:
            raise BadRequest(str(exc), code="conversation_conflict") from exc
        if updated is not None:
            outcome.update({field: "applied" for field in todo})
            hub.events.publish(InboxEvent("conversation", updated))
            break
    final = await hub.require_conversation(state.conversation_id)
    return {
        "conversation_id": state.conversation_id,
        "fields": outcome,
        "conversation": final.model_dump(mode="json"),
    }
