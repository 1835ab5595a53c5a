"""Every fenced block in README.md and docs/*.md either runs against a live hub or says why not.

A block runs when its info string is a shell (``sh``, ``bash``, ``shell``, ``console``) or
Python (``python``, ``py``); everything else (``text``, ``yaml``, ``json``, ``nginx``…) is
not meant to run, and a bare fence fails: say what it is. A runnable block that should not
run here (it starts a server, needs a platform account, installs system files) is preceded by
``<!-- not-run: reason -->``. The hub is the embedded-database ``chorus serve`` of the quick
start, on a free port: the one rewrite is ``localhost:8080``/``127.0.0.1:8080`` to that port.
Blocks run in the test's venv, which has the test extras too, so an import hook refuses
every module that ``make run`` (``chorus-hub[embedded]``) would not have installed.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.helpers.embedded_hub import ROOT, EmbeddedHub

DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELLS = {"sh", "bash", "shell", "console"}
PYTHON = {"python", "py"}
FENCE = re.compile(r"^\s*(```+|~~~+)\s*([\w+-]*)")
NOT_RUN = re.compile(r"<!--\s*not-run:\s*(.*?)\s*-->")
HUB_ADDRESS = re.compile(r"(localhost|127\.0\.0\.1):8080")
# curl exits 0 on an HTTP error; a snippet answered 4xx/5xx has not worked.
SHELL_PRELUDE = 'set -euo pipefail\ncurl() { command curl --fail-with-body "$@"; }\n'


@dataclass(frozen=True)
class Block:
    document: str
    line: int
    info: str
    code: str
    not_run: str | None

    @property
    def runnable(self) -> bool:
        return self.info in SHELLS | PYTHON and self.not_run is None


def fenced_blocks(path: Path) -> Iterator[Block]:
    lines = path.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        fence, start = opening[1], index
        index += 1
        body: list[str] = []
        while index < len(lines) and not lines[index].strip().startswith(fence):
            body.append(lines[index])
            index += 1
        index += 1
        before = next((text for text in reversed(lines[:start]) if text.strip()), "")
        marker = NOT_RUN.search(before)
        yield Block(
            str(path.relative_to(ROOT)),
            start + 1,
            opening[2].lower(),
            "\n".join(body) + "\n",
            marker[1] if marker else None,
        )


BLOCKS = [block for path in DOCUMENTS for block in fenced_blocks(path)]


def test_every_block_says_what_it_is() -> None:
    bare = [f"{b.document}:{b.line}" for b in BLOCKS if not b.info]
    assert not bare, f"give these fences an info string (```text, ```yaml, ```sh…): {bare}"
    unexplained = [f"{b.document}:{b.line}" for b in BLOCKS if b.not_run == ""]
    assert not unexplained, f"a not-run marker needs its reason: {unexplained}"


def test_the_quick_start_blocks_run() -> None:
    """The issue's first failure stays covered even if the README's wording moves."""
    assert any(b.runnable and "/chat" in b.code for b in BLOCKS if b.document == "README.md")


REFUSE_IMPORTS = """
import importlib.abc, json, os, sys
_REFUSED = json.loads(open(os.environ["CHORUS_SNIPPET_REFUSED"]).read())
class _NotFromMakeRun(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        if top in _REFUSED:
            raise ModuleNotFoundError(f"{top} is not installed by make run ({_REFUSED[top]})")
        return None
sys.meta_path.insert(0, _NotFromMakeRun())
"""


def make_run_distributions() -> set[str]:
    """chorus-hub[embedded] and everything it requires, transitively: what ``make run`` installs."""
    seen: set[str] = set()
    todo: list[tuple[str, frozenset[str]]] = [("chorus-hub", frozenset({"embedded"}))]
    while todo:
        name, extras = todo.pop()
        if canonicalize_name(name) in seen:
            continue
        seen.add(canonicalize_name(name))
        try:
            requirements = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        for text in requirements:
            req = Requirement(text)
            wanted = req.marker is None or any(
                req.marker.evaluate({"extra": extra}) for extra in extras | {""}
            )
            if wanted:
                todo.append((req.name, frozenset(req.extras)))
    return seen


def refused_modules() -> dict[str, str]:
    """Top-level modules that only distributions outside ``make run`` provide."""
    allowed = make_run_distributions()
    return {
        module: ", ".join(dists)
        for module, dists in metadata.packages_distributions().items()
        if not any(canonicalize_name(d) in allowed for d in dists)
        and module not in sys.stdlib_module_names
        and module not in {"hub", "adapters", "moderation", "storage", "_distutils_hack"}
    }


@pytest.fixture(scope="module")
def make_run_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """PYTHONPATH with a sitecustomize that refuses what ``make run`` does not install."""
    site = tmp_path_factory.mktemp("make-run-site")
    (site / "sitecustomize.py").write_text(REFUSE_IMPORTS)
    (site / "refused.json").write_text(json.dumps(refused_modules()))
    return {
        "PYTHONPATH": str(site) + os.pathsep + str(ROOT),
        "CHORUS_SNIPPET_REFUSED": str(site / "refused.json"),
    }


def test_the_import_guard_refuses_test_only_packages(make_run_env: dict[str, str]) -> None:
    env = {**os.environ, **make_run_env}
    refused = subprocess.run(
        [sys.executable, "-c", "import websocket"], env=env, capture_output=True, text=True
    )
    assert refused.returncode != 0 and "not installed by make run" in refused.stderr
    allowed = subprocess.run([sys.executable, "-c", "import aiohttp, hub.cli.main"], env=env)
    assert allowed.returncode == 0


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedHub]:
    running = EmbeddedHub(tmp_path_factory.mktemp("snippets") / "data")
    asyncio.run(running.start())
    yield running
    asyncio.run(running.kill())


def _command(block: Block, port: int) -> list[str]:
    code = HUB_ADDRESS.sub(f"127.0.0.1:{port}", block.code)
    if block.info in PYTHON:
        return [sys.executable, "-c", code]
    if block.info == "console":
        code = "\n".join(line[2:] for line in code.splitlines() if line.startswith("$ "))
    return ["bash", "-c", SHELL_PRELUDE + code]


@pytest.mark.parametrize(
    "block", [b for b in BLOCKS if b.runnable], ids=lambda b: f"{b.document}:{b.line}"
)
def test_block_runs_against_a_live_hub(
    block: Block, hub: EmbeddedHub, make_run_env: dict[str, str]
) -> None:
    result = subprocess.run(
        _command(block, hub.port),
        cwd=ROOT,
        env={**hub.env, **make_run_env},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, (
        f"{block.document}:{block.line} failed ({result.returncode}):\n{block.code}\n"
        f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}\nhub log:\n{hub.log()[-3000:]}"
    )
