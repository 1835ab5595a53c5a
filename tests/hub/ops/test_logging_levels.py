"""Loggers of libraries that echo secrets or message bodies stay quiet at any hub level."""

from __future__ import annotations

import logging

from hub.runtime.logs import setup_logging


def test_pymongo_command_log_is_off_even_at_debug() -> None:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        setup_logging("DEBUG", json_format=True)  # pymongo logs commands at DEBUG
        assert logging.getLogger("hub").isEnabledFor(logging.DEBUG)
        # pymongo.command logs whole documents: stored tokens and customers' messages.
        assert not logging.getLogger("pymongo.command").isEnabledFor(logging.DEBUG)
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        logging.getLogger("pymongo").setLevel(logging.NOTSET)
