"""Logging: JSON lines when not on a terminal, readable lines on one; context and redaction.

A log context (``trace_id`` for the request or frame, ``message_id`` once the message is
stored) lives in a ``contextvars.ContextVar``: the adapter opens it, the core binds the
message id, and every record logged inside (core, storage commands, the send) carries
it, including in tasks started from there. Records get it as ``record.context``.

Secrets never reach a log line: the redaction filter masks secret-named fields and
token-shaped strings, and message bodies only appear at DEBUG.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import json
import logging
import re
import sys
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Mapping
from datetime import UTC, datetime
from typing import IO, Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

# Attributes every LogRecord has; anything else was passed in ``extra`` and is kept.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "context"}

_context: contextvars.ContextVar[Mapping[str, str] | None] = contextvars.ContextVar(
    "chorus_log_context", default=None
)

REDACTED = "[redacted]"
# Field names whose values are secrets at every level.
_SECRET_FIELDS = re.compile(
    r"token|secret|password|passwd|authorization|api_key|apikey|cookie|signature", re.I
)
# Field names that carry what people wrote: shown at DEBUG only.
_BODY_FIELDS = frozenset({"text", "body", "raw", "payload", "frame", "content"})
# Token shapes that may hide inside a message or an error string.
_SECRET_PATTERNS = (
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"),
    re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"),  # JWT
    re.compile(r"xox[abposr]-[A-Za-z0-9-]{8,}"),  # Slack tokens
    # Telegram bot tokens, alone or in a Bot API URL (``/bot<token>/sendMessage``), where
    # no word boundary comes between "bot" and the digits.
    re.compile(r"(?:(?<=bot)|(?<![A-Za-z0-9_]))\d{6,12}:[A-Za-z0-9_-]{30,}"),
    re.compile(r"(?<=/bot)\d+:[^/\s?#]+"),
    re.compile(r"(?<=://)[^/\s:@]+:[^/\s@]+(?=@)"),  # user:password@ in URIs
    re.compile(r"(?i)((?:token|secret|password|api_key)=)[^&\s]+"),
)


def new_trace_id() -> str:
    return uuid.uuid4().hex[:16]


def current_context() -> dict[str, str]:
    """The fields bound in the running task (``trace_id``, ``message_id``, ...)."""
    return dict(_context.get() or {})


@contextlib.contextmanager
def log_context(**fields: str | None) -> Iterator[dict[str, str]]:
    """Bind fields for the duration of the block; they are dropped again on exit."""
    merged = {**current_context(), **{k: v for k, v in fields.items() if v is not None}}
    token = _context.set(merged)
    try:
        yield merged
    finally:
        _context.reset(token)


def bind(**fields: str | None) -> None:
    """Add fields to the current context until the enclosing ``log_context`` ends."""
    _context.set({**current_context(), **{k: v for k, v in fields.items() if v is not None}})


def context_with(**fields: str | None) -> contextvars.Context:
    """A copy of the current context with ``fields`` bound: for ``create_task(context=)``."""
    context = contextvars.copy_context()
    context.run(bind, **fields)
    return context


def scoped_log_context(
    function: Callable[P, Awaitable[T]],
) -> Callable[P, Coroutine[Any, Any, T]]:
    """Run ``function`` in its own log scope: what it binds does not leak to its caller."""

    @functools.wraps(function)
    async def scoped(*args: P.args, **kwargs: P.kwargs) -> T:
        with log_context():
            return await function(*args, **kwargs)

    return scoped


def _factory_with_context(previous: Any) -> Any:
    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record: logging.LogRecord = previous(*args, **kwargs)
        record.context = _context.get() or {}
        return record

    factory.chorus_context = True  # type: ignore[attr-defined]
    return factory


def install_log_context() -> None:
    """Tag every log record with the current context (idempotent)."""
    previous = logging.getLogRecordFactory()
    if not getattr(previous, "chorus_context", False):
        logging.setLogRecordFactory(_factory_with_context(previous))


def record_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The context and ``extra`` fields of a record, context first."""
    fields: dict[str, Any] = dict(getattr(record, "context", None) or {})
    fields.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
    return fields


def redact_text(text: str) -> str:
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.re.groups else "") + REDACTED, text)
    return text


def _redact_value(key: str, value: Any, level: int) -> Any:
    if _SECRET_FIELDS.search(key):
        return REDACTED
    if key in _BODY_FIELDS and level > logging.DEBUG:
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    return value


class RedactionFilter(logging.Filter):
    """Masks secrets (always) and message bodies (above DEBUG) before a record is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact_text(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        for key in [k for k in record.__dict__ if k not in _STANDARD]:
            record.__dict__[key] = _redact_value(key, record.__dict__[key], record.levelno)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update(record_fields(record))
        if record.exc_text or record.exc_info:
            entry["exc"] = record.exc_text or self.formatException(record.exc_info)  # type: ignore[arg-type]
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        base = super().format(record)
        extra = record_fields(record)
        return base + (" " + " ".join(f"{k}={v}" for k, v in extra.items()) if extra else "")


# Libraries that log what the hub must not: httpx/httpcore put every request URL (a bot
# token may be in it) at INFO, pymongo logs whole commands (stored documents) at DEBUG.
# A channel's SDK loggers are capped by its declaration (``ChannelSpec.quiet_loggers``).
QUIET_LOGGERS = {
    "pymongo": logging.INFO,
    "aiohttp.access": logging.WARNING,
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
}


def setup_logging(
    level: str = "INFO", json_format: bool | None = None, stream: IO[str] | None = None
) -> None:
    use_json = (not sys.stderr.isatty()) if json_format is None else json_format
    install_log_context()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactionFilter())
    handler.setFormatter(
        JsonFormatter()
        if use_json
        else TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name, quiet_level in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(quiet_level)


def setup_command_logging(level: str = "INFO", json_format: bool | None = None) -> None:
    """Log a one-off command's records (its progress) like the hub's, unless the process
    hosting it configured logging already (a test runner, an embedding program)."""
    if not logging.getLogger().handlers:
        setup_logging(level, json_format)
