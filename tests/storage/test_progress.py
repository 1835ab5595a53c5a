"""Progress lines: redrawn on a terminal, logged otherwise."""

from __future__ import annotations

import io
import logging

import pytest

from storage.progress import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_a_redrawn_status_line() -> None:
    screen = Terminal()
    progress = Progress("backup", stream=screen, interval=0)
    progress.add(10, 2_000_000)
    progress.add(5, 1_000_000)
    progress.done()

    lines = screen.getvalue().split("\r")
    assert lines[1].startswith("backup: 10 documents, 2.0 MB, ")
    assert lines[-1].startswith("backup: 15 documents, 3.0 MB, ") and lines[-1].endswith("MB/s\n")


def test_elsewhere_progress_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    progress = Progress("restore", stream=io.StringIO(), interval=0)
    with caplog.at_level(logging.INFO, logger="chorus.progress"):
        progress.add(3, 0)
        progress.done()
    assert [r.getMessage().split(",")[0] for r in caplog.records] == [
        "restore: 3 documents",
        "restore: 3 documents",
    ]
