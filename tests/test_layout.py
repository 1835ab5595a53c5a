"""Tests follow the tree: test folders mirror the packages they test, and test modules share
code only through tests/helpers/."""

from __future__ import annotations

import ast
import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent
# Test modules share code only through tests/helpers/ (and the platform fakes in tests/fakes/):
# never a conftest (which only exposes fixtures to its folder) nor another test folder.
FORBIDDEN = re.compile(
    r"^\s*(?:from|import)\s+(?:conftest\b|\.|tests\.(?!helpers\b|fakes\b)\w+)[\w.]*",
    re.M,
)


def test_test_modules_share_code_only_through_helpers() -> None:
    offenders = [
        f"{path.relative_to(TESTS)}: {match.group(0).strip()}"
        for path in sorted(TESTS.rglob("*.py"))
        for match in FORBIDDEN.finditer(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def _readme_layout() -> list[str]:
    readme = (TESTS.parent / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Layout", 1)[1].split("```text\n", 1)[1].split("```", 1)[0]
    return block.splitlines()


def test_the_readme_layout_is_the_layout_on_disk() -> None:
    lines = _readme_layout()
    listed_hub = {m.group(1) for line in lines if (m := re.match(r"  (\w+)/ ", line))}
    on_disk = {p.parent.name for p in (TESTS.parent / "hub").glob("*/__init__.py")}
    assert listed_hub == on_disk
    listed_top = {line.split("/")[0] for line in lines if line[:1].isalpha()}
    assert all((TESTS.parent / name).is_dir() for name in listed_top)
    packages = {p.parent.name for p in TESTS.parent.glob("*/__init__.py")}
    assert packages <= listed_top | {"tests"}


def test_handlers_call_services_not_the_stores_behind_them() -> None:
    # A handler asks the hub or a service; reaching through one to its ``.store`` couples the
    # handler to how that service keeps its data.
    offenders = []
    for path in sorted((TESTS.parent / "hub").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.AsyncFunctionDef) or not node.args.args:
                continue
            first = node.args.args[0].annotation
            if first is None or ast.unparse(first) != "web.Request":
                continue
            offenders += [
                f"{path.relative_to(TESTS.parent)}:{attr.lineno} {node.name}"
                for attr in ast.walk(node)
                if isinstance(attr, ast.Attribute) and attr.attr == "store"
            ]
    assert offenders == []


def test_test_folders_mirror_the_packages_they_test() -> None:
    root = TESTS.parent
    for folder in ("hub", "adapters", "storage", "moderation"):
        tested = {p.parent.name for p in (TESTS / folder).glob("*/__init__.py")}
        packages = {p.parent.name for p in (root / folder).glob("*/__init__.py")}
        assert tested <= packages, (
            f"tests/{folder}/ has folders for no package: {tested - packages}"
        )


def test_handlers_get_their_services_from_setup_not_the_database() -> None:
    # ``setup(app)`` builds a feature's stores and services once; a handler that subscripts
    # ``app[MONGO]`` or constructs a ``*Store`` rebuilds storage on every request and bypasses
    # whatever the feature's service adds on top of it.
    # The readiness probe's whole job is to ping the database itself.
    probes = {"hub/app.py readyz"}
    offenders = []
    for path in sorted((TESTS.parent / "hub").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            if f"{path.relative_to(TESTS.parent)} {node.name}" in probes or not any(
                arg.annotation is not None and ast.unparse(arg.annotation) == "web.Request"
                for arg in node.args.args
            ):
                continue
            for inner in ast.walk(node):
                reaches_mongo = isinstance(inner, ast.Subscript) and (
                    ast.unparse(inner.slice) == "MONGO"
                )
                builds_store = (
                    isinstance(inner, ast.Call)
                    and isinstance(inner.func, ast.Name)
                    and inner.func.id.endswith("Store")
                )
                if reaches_mongo or builds_store:
                    offenders.append(f"{path.relative_to(TESTS.parent)}:{inner.lineno} {node.name}")
    assert offenders == []
