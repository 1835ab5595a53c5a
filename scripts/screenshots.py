"""Retake the README's screenshots from the live interface: ``.venv/bin/python
scripts/screenshots.py [--out DIR]`` (default ``docs/``).

Each part starts a hub on loopback over a throwaway embedded database, seeds it (customers
on the widget's socket, a week of report history) and drives Debian's Chromium with
Playwright: the inbox, the widget (in English, in Chinese, on a 360 px phone, with a photo),
the reports page in English and Chinese, and the administration pages.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.helpers import report_screenshots, screenshots  # noqa: E402 - after the path

SHOTS = (
    "inbox-list.png",
    "inbox-conversation.png",
    "inbox-files.png",
    "widget.png",
    "widget-files.png",
    "widget-zh.png",
    "widget-phone.png",
    "reports-en.png",
    "reports-zh.png",
    "admin-agents.png",
    "admin-rules-zh.png",
)


async def retake(out: Path) -> None:
    await screenshots.main(out)
    await report_screenshots.main(out)


def has_chinese_font() -> bool:
    """Chromium draws Chinese without a CJK font as empty boxes: no screenshot is better."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return False
    found = subprocess.run(  # noqa: S603 - fixed argv, no shell
        [fc_list, ":lang=zh"], capture_output=True, text=True, check=False
    )
    return bool(found.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="where the PNGs go")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if not has_chinese_font():
        sys.exit(
            "no Chinese font: install one first, e.g. "
            "sudo apt-get install --no-install-recommends fonts-wqy-microhei"
        )
    started = time.monotonic()
    asyncio.run(retake(args.out))
    missing = [name for name in SHOTS if not (args.out / name).is_file()]
    if missing:
        sys.exit(f"not taken: {', '.join(missing)}")
    print(f"{len(SHOTS)} screenshots in {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    main()
