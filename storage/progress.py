"""Progress of long runs: documents, bytes and rate, on a terminal or in the log."""

from __future__ import annotations

import logging
import sys
import time
from typing import TextIO

log = logging.getLogger("chorus.progress")


class Progress:
    """Counts documents and bytes; redraws a status line on a TTY, else logs periodically."""

    def __init__(
        self, label: str, stream: TextIO | None = None, interval: float | None = None
    ) -> None:
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty()
        self.interval = interval if interval is not None else (0.5 if self.tty else 10.0)
        self.documents = 0
        self.bytes = 0
        self.started = time.monotonic()
        self._last = self.started

    @property
    def elapsed(self) -> float:
        return max(time.monotonic() - self.started, 1e-9)

    def line(self) -> str:
        mb = self.bytes / 1_000_000
        return (
            f"{self.label}: {self.documents} documents, {mb:.1f} MB, "
            f"{self.documents / self.elapsed:.0f} docs/s, {mb / self.elapsed:.2f} MB/s"
        )

    def add(self, documents: int = 0, nbytes: int = 0) -> None:
        self.documents += documents
        self.bytes += nbytes
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            self._show()

    def _show(self) -> None:
        if self.tty:
            self.stream.write("\r" + self.line())
            self.stream.flush()
        else:
            log.info(self.line())

    def done(self) -> None:
        if self.tty:
            self.stream.write("\r" + self.line() + "\n")
            self.stream.flush()
        else:
            log.info(self.line())
