"""Domain errors with stable codes; mapped to HTTP and WebSocket errors in one place."""

from __future__ import annotations


class ChorusError(Exception):
    """Base of every error a client may see. ``code`` is stable; ``status`` is HTTP."""

    code = "internal_error"
    status = 500

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        fields: list[dict[str, object]] | None = None,
    ):
        super().__init__(message)
        self.message = message
        # Which parts of the request are wrong, each {"loc": [...], "message": ...}, so a
        # form can put each message beside its input.
        self.fields = fields
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status


class BadRequest(ChorusError):
    code = "bad_request"
    status = 400


class PayloadTooLarge(ChorusError):
    code = "payload_too_large"
    status = 413


class Unauthorized(ChorusError):
    code = "unauthorized"
    status = 401


class Forbidden(ChorusError):
    code = "forbidden"
    status = 403


class NotFound(ChorusError):
    code = "not_found"
    status = 404


class Conflict(ChorusError):
    code = "conflict"
    status = 409


class RateLimited(ChorusError):
    code = "rate_limited"
    status = 429


class StorageError(ChorusError):
    """The database refused or failed an operation. Storage raises this family in place of
    the driver's exceptions (``storage.errors`` maps them), so nothing above it names pymongo;
    the driver's exception stays attached as ``__cause__`` for the logs."""

    code = "storage_error"
    status = 500


class StorageUnavailable(StorageError):
    """The database did not answer; the client should retry later."""

    code = "storage_unavailable"
    status = 503


class StorageRefused(StorageError):
    """The database answered and refused: credentials, permissions, or a bad command."""

    code = "storage_refused"


class StorageMisconfigured(StorageError):
    """The database address or its options cannot be used (an invalid URI)."""

    code = "storage_misconfigured"


class DuplicateRecord(StorageError, Conflict):
    """A write met a unique index: the record (or its key) is already stored."""

    code = "duplicate"
    status = 409


class ConversationChanged(Conflict):
    """A conditional change found the conversation's routing changed since it was read."""

    code = "conversation_changed"
