"""Tests follow the tree: test modules share helpers through tests/helpers/, never by
importing the root conftest or another test module."""

from __future__ import annotations

import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent
FORBIDDEN = re.compile(
    r"^\s*(?:from|import)\s+(?:tests\.conftest\b|conftest\b|\.conftest\b|tests\.(?:\w+\.)*test_\w+)",
    re.M,
)


def test_no_module_imports_the_root_conftest_or_a_test_module() -> None:
    offenders = [
        f"{path.relative_to(TESTS)}: {match.group(0).strip()}"
        for path in sorted(TESTS.rglob("*.py"))
        for match in FORBIDDEN.finditer(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
