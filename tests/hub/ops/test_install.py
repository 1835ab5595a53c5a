"""The quick start installs into a project venv, and Chromium only when missing, saying so."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.helpers.embedded_hub import ROOT


def make_dry_run(target: str, venv: Path) -> list[str]:
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", target, f"VENV={venv}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_make_run_and_test_use_a_project_venv(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    run = make_dry_run("run", venv)
    assert run[0].startswith(f"python3 -m venv {venv}")
    assert f"{venv}/bin/python -m pip install" in "\n".join(run)
    assert run[-1] == f"{venv}/bin/python -m hub.cli serve"
    test = make_dry_run("test", venv)
    assert test[-1] == f"{venv}/bin/python -m pytest -q"
    assert not [line for line in run + test if line.startswith(("python3 -m pip", "pip "))]
    assert "make test" in (ROOT / ".ci" / "run").read_text().splitlines()


def ensure_chromium(
    tmp_path: Path, uid: int, apt_status: int
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """Run the script with stand-ins for id, sudo and apt-get that record how they were called."""
    bin_dir, calls = tmp_path / "bin", tmp_path / "calls"
    bin_dir.mkdir()
    stubs = {
        "id": f"echo {uid}",
        "sudo": f'echo "sudo $*" >> {calls}; exec "$@"',
        "apt-get": f'echo "apt-get $*" >> {calls}; exit {apt_status}',
    }
    for name, body in stubs.items():
        (bin_dir / name).write_text(f"#!/bin/sh\n{body}\n")
        (bin_dir / name).chmod(0o755)
    result = subprocess.run(
        [str(ROOT / "scripts" / "ensure-chromium")],
        env={"PATH": f"{bin_dir}:/usr/bin:/bin", "CHROMIUM": str(tmp_path / "no-chromium")},
        capture_output=True,
        text=True,
    )
    return result, calls.read_text().splitlines() if calls.exists() else []


def test_chromium_is_announced_then_installed_without_recommends_via_sudo(tmp_path: Path) -> None:
    result, calls = ensure_chromium(tmp_path, uid=1000, apt_status=0)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].startswith("The browser tests need Chromium: installing")
    assert calls[0] == "sudo apt-get update -qq"
    assert calls[-1].endswith("apt-get install -y -qq --no-install-recommends chromium")
    assert calls[-2].startswith("sudo env DEBIAN_FRONTEND=noninteractive apt-get install")


def test_root_installs_without_sudo(tmp_path: Path) -> None:
    result, calls = ensure_chromium(tmp_path, uid=0, apt_status=0)
    assert result.returncode == 0
    assert calls and not [call for call in calls if call.startswith("sudo")]


def test_a_failed_install_says_what_to_run_and_lets_the_suite_go_on(tmp_path: Path) -> None:
    result, _ = ensure_chromium(tmp_path, uid=0, apt_status=100)
    assert result.returncode == 0
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "Could not install chromium; the browser tests will fail until you run: "
        "sudo apt-get install --no-install-recommends chromium"
    ]
    assert os.access(ROOT / "scripts" / "ensure-chromium", os.X_OK)
