"""The driver's exceptions become the hub's own, here and nowhere else.

Every store derives from :class:`StorageBoundary`, which wraps its public coroutine methods
(and async generators) so a ``PyMongoError`` leaves storage as a ``hub.errors.StorageError``:
``StorageUnavailable`` when the database did not answer (callers retry), ``DuplicateRecord``
when a unique index refused a write, ``StorageRefused`` when the server refused (credentials,
a bad command), ``StorageMisconfigured`` for an unusable address, ``StorageError`` otherwise.
The driver's exception stays attached as ``__cause__`` (operators' tools quote it); its text,
which may hold stored values, is not copied into the message a client sees.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from typing import Any, ParamSpec, TypeVar

from pymongo.errors import (
    ConfigurationError,
    ConnectionFailure,
    DuplicateKeyError,
    OperationFailure,
    PyMongoError,
)

from hub.errors import (
    DuplicateRecord,
    StorageError,
    StorageMisconfigured,
    StorageRefused,
    StorageUnavailable,
)

P = ParamSpec("P")
T = TypeVar("T")

# Labels the server puts on errors that a retry after a failover would get past.
_TRANSIENT_LABELS = ("RetryableWriteError", "TransientTransactionError")


def translate(exc: PyMongoError) -> StorageError:
    """The hub's error for a driver exception (the one mapping in the tree)."""
    error: StorageError
    if isinstance(exc, DuplicateKeyError):
        error = DuplicateRecord("a record with that key is already stored")
    elif isinstance(exc, ConnectionFailure) or any(map(exc.has_error_label, _TRANSIENT_LABELS)):
        error = StorageUnavailable("the database is unavailable, retry")
    elif isinstance(exc, OperationFailure):
        error = StorageRefused(f"the database refused the operation ({type(exc).__name__})")
    elif isinstance(exc, ConfigurationError):
        error = StorageMisconfigured("the database address or its options are not valid")
    else:
        error = StorageError(f"the database operation failed ({type(exc).__name__})")
    error.__cause__ = exc
    return error


@contextlib.contextmanager
def storage_errors() -> Iterator[None]:
    """Translate driver exceptions raised in the block."""
    try:
        yield
    except PyMongoError as exc:
        raise translate(exc) from exc


def translated(function: Callable[P, Awaitable[T]]) -> Callable[P, Coroutine[Any, Any, T]]:
    """``function`` with driver exceptions translated."""

    @functools.wraps(function)
    async def call(*args: P.args, **kwargs: P.kwargs) -> T:
        try:  # not ``storage_errors()``: a context manager costs more than the call itself
            return await function(*args, **kwargs)
        except PyMongoError as exc:
            raise translate(exc) from exc

    return call


def translated_stream(function: Callable[P, AsyncIterator[T]]) -> Callable[P, AsyncIterator[T]]:
    """An async generator function with driver exceptions translated while it runs."""

    @functools.wraps(function)
    async def stream(*args: P.args, **kwargs: P.kwargs) -> AsyncIterator[T]:
        with storage_errors():
            async for item in function(*args, **kwargs):
                yield item

    return stream


class StorageBoundary:
    """Base of every store: its public async methods raise only the hub's errors."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name, member in list(vars(cls).items()):
            if name.startswith("_"):
                continue
            if inspect.isasyncgenfunction(member):
                setattr(cls, name, translated_stream(member))
            elif inspect.iscoroutinefunction(member):
                setattr(cls, name, translated(member))
