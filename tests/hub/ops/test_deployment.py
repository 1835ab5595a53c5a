"""The deployment guide's systemd unit is valid and its commands work as written."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from click.testing import CliRunner

from hub.cli.main import main
from hub.config.model import HttpConfig

UNIT = Path(__file__).resolve().parents[3] / "docs" / "chorus.service"
INSTALLED = "/opt/chorus/venv/bin/chorus"


def _directives() -> dict[str, str]:
    pairs = (line.split("=", 1) for line in UNIT.read_text().splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, value in pairs if not key.startswith("#")}


def test_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    # Installed beside the interpreter running the tests (the project venv), on PATH or not.
    chorus = shutil.which("chorus", path=str(Path(sys.executable).parent)) or shutil.which("chorus")
    assert chorus is not None, "the chorus entry point is installed by make install"
    unit = tmp_path / "chorus.service"
    unit.write_text(UNIT.read_text().replace(INSTALLED, chorus))
    done = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert str(unit) not in done.stderr, done.stderr  # no ignored or unknown directive


def test_unit_stops_with_sigterm_and_outwaits_the_grace_period() -> None:
    unit = _directives()
    assert unit["KillSignal"] == "SIGTERM"
    assert float(unit["TimeoutStopSec"]) > HttpConfig().shutdown_grace_seconds
    assert shlex.split(unit["ExecStart"])[1:3] == ["serve", "--config"]


def test_unit_doctor_command_passes_on_a_production_setup(mongo_uri, db_name, db, tmp_path) -> None:
    args = shlex.split(_directives()["ExecStartPre"])[1:]
    config_file = tmp_path / "config.yaml"
    config_file.write_text(
        yaml.safe_dump({"http": {"host": "10.0.0.11"}, "mongo": {"database": db_name}})
    )
    args[args.index("--config") + 1] = str(config_file)
    env = {
        "CHORUS_MONGO__URI": mongo_uri,
        "CHORUS_AUTH__JWT_SECRET": "a-shared-secret-" + "z" * 32,
        "CHORUS_METRICS__TOKEN": "scrape-token",
    }
    runner = CliRunner()
    assert runner.invoke(main, ["db", "init", "--config", str(config_file)], env=env).exit_code == 0
    result = runner.invoke(main, args, env=env)
    assert result.exit_code == 0, result.output
    assert "0 failed" in result.output
