"""Run every benchmark and print the figures: ``python -m bench`` (or ``make bench``).

The hub benchmarks (commands per message, ingest, latency, connections, queries) share one
table with their baselines; moderation, archive/backup and replication print their own
tables after it.
``--quick`` shrinks every size for a smoke run.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Callable

from bench import commands, connections, ingest, latency, queries
from bench.harness import Row, print_table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument(
        "--inbox-messages",
        type=int,
        default=None,
        help="messages in the query benchmark's inbox (default 1,000,000)",
    )
    args = parser.parse_args()
    quick = args.quick
    started = time.monotonic()
    rows: list[Row] = []
    inbox = args.inbox_messages or (20_000 if quick else 1_000_000)
    steps: list[tuple[str, Callable[[], list[Row]]]] = [
        ("commands", lambda: commands.run(10 if quick else 50, 3 if quick else 10)),
        ("ingest", lambda: ingest.run([20, 100] if quick else [100, 1000], 5)),
        # Every customer opens a conversation the bot answers: the new-conversation cost.
        ("ingest, bot on", lambda: ingest.run([20] if quick else [100], 5, bot=True)),
        # The target rate, and a rate the embedded storage sustains, for comparison.
        ("latency", lambda: latency.run(200 if quick else 1000, 2.0 if quick else 5.0)),
        ("latency", lambda: latency.run(100 if quick else 200, 2.0 if quick else 5.0)),
        ("connections", lambda: connections.run(1000 if quick else 10_000, 3.0 if quick else 10.0)),
        ("queries", lambda: queries.run(inbox, 100)),
    ]
    for name, step in steps:
        began = time.monotonic()
        rows += step()
        print(f"{name}: {time.monotonic() - began:.0f}s", file=sys.stderr, flush=True)
    print_table(rows)
    sys.stdout.flush()
    others = [
        ["bench.moderation", "--count", "2000" if quick else "20000"],
        ["bench.archive", "--conversations", "200" if quick else "1000"],
        [
            "bench.replication",
            "--messages",
            "500" if quick else "5000",
            "--seconds",
            "3" if quick else "10",
        ],
    ]
    for command in others:
        print(f"\n$ python -m {' '.join(command)}", flush=True)
        subprocess.run([sys.executable, "-m", *command], check=True)
    print(f"\nall benchmarks: {time.monotonic() - started:.0f}s")


if __name__ == "__main__":
    main()
