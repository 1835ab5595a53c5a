"""A JWT secret too short to sign with stops start-up with one line, in every door:
configuration, the secret file, ``chorus serve``, ``chorus token`` and ``chorus doctor``."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from hub.access.tokens import TokenService
from hub.cli.main import main
from hub.config.model import ConfigError, load_config


def _chorus(*args: str, env: dict[str, str]) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env=env)
    return result.exit_code, result.output


def test_a_short_configured_secret_is_a_one_line_config_error() -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(None, environ={"CHORUS_AUTH__JWT_SECRET": "x" * 31})
    assert str(raised.value) == ("invalid configuration: auth.jwt_secret: is shorter than 32 bytes")
    # 32 bytes, not characters: 11 three-byte characters are 33 bytes.
    load_config(None, environ={"CHORUS_AUTH__JWT_SECRET": "€" * 11})


@pytest.mark.parametrize(
    ("content", "problem"),
    [("", "is empty"), ("  \n", "is empty"), ("short", "is shorter than 32 bytes")],
)
def test_an_empty_or_short_secret_file_is_refused(
    tmp_path: Path, content: str, problem: str
) -> None:
    path = tmp_path / "jwt_secret"
    path.write_text(content)
    config = load_config(None, environ={"CHORUS_AUTH__JWT_SECRET_FILE": str(path)})
    with pytest.raises(ConfigError, match=problem):
        TokenService(config.auth)
    env = {"CHORUS_AUTH__JWT_SECRET_FILE": str(path)}
    code, output = _chorus("token", "--sub", "a", "--role", "agent", env=env)
    assert code == 1
    assert (
        output
        == f"Error: auth.jwt_secret_file {path} {problem}: put 32 or more random bytes in it\n"
    )


def test_serve_refuses_an_empty_secret_file_without_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "jwt_secret"
    path.write_text("")
    env = {"CHORUS_AUTH__JWT_SECRET_FILE": str(path), "CHORUS_MONGO__URI": "mongodb://127.0.0.1:9"}
    code, output = _chorus("serve", env=env)
    assert code == 1
    assert output.strip().splitlines() == [
        f"Error: auth.jwt_secret_file {path} is empty: put 32 or more random bytes in it"
    ]


def test_doctor_production_fails_a_short_secret(mongo_uri: str, tmp_path: Path) -> None:
    base = {"CHORUS_MONGO__URI": mongo_uri}
    code, output = _chorus(
        "doctor", "--production", env={**base, "CHORUS_AUTH__JWT_SECRET": "abcde"}
    )
    assert code == 1
    assert (
        output.strip() == "Error: invalid configuration: auth.jwt_secret: is shorter than 32 bytes"
    )
    path = tmp_path / "jwt_secret"
    path.write_text("abcde")
    code, output = _chorus(
        "doctor",
        "--production",
        "--timeout",
        "2",
        env={**base, "CHORUS_AUTH__JWT_SECRET_FILE": str(path)},
    )
    assert code == 1
    line = next(line for line in output.splitlines() if line.startswith("auth.jwt_secret"))
    assert " FAIL " in line and "shorter than 32 bytes" in line
