"""The ``telegram`` config section and ``chorus telegram set-webhook``."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from click.testing import CliRunner

from hub.cli.main import main
from hub.config.model import ConfigError, load_config
from tests.helpers.telegram import SECRET, telegram_config


def test_disabled_by_default_and_env_sets_the_token() -> None:
    assert load_config(None, environ={}).telegram.enabled is False
    config = load_config(
        None,
        environ={
            "CHORUS_TELEGRAM__ENABLED": "true",
            "CHORUS_TELEGRAM__BOT_TOKEN": "42:abc",
            "CHORUS_TELEGRAM__MODE": "polling",
        },
    )
    assert config.telegram.bot_token.get_secret_value() == "42:abc"
    assert "42:abc" not in repr(config.telegram)
    assert config.telegram.api_base_url == "https://api.telegram.org/bot"
    assert config.telegram.file_base_url == "https://api.telegram.org/file/bot"


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"CHORUS_TELEGRAM__ENABLED": "true"}, "telegram.bot_token"),
        (
            {"CHORUS_TELEGRAM__ENABLED": "true", "CHORUS_TELEGRAM__BOT_TOKEN": "42:abc"},
            "telegram.webhook_secret",
        ),
        ({"CHORUS_TELEGRAM__WEBHOOK_SECRET": "has space"}, "telegram.webhook_secret"),
        ({"CHORUS_TELEGRAM__MODE": "push"}, "telegram.mode"),
    ],
)
def test_unusable_settings_stop_start_up_naming_the_key(environ, named) -> None:
    with pytest.raises(ConfigError, match=named.replace(".", r"\.")):
        load_config(None, environ=environ)


def _config_file(tmp_path: Path, server, token: str, secret: str = SECRET) -> Path:
    path = tmp_path / "chorus.yaml"
    path.write_text(
        "telegram:\n"
        f"  bot_token: '{token}'\n"
        f"  webhook_secret: '{secret}'\n"
        f"  api_base_url: '{server.make_url('/bot')}'\n"
        f"  file_base_url: '{server.make_url('/file/bot')}'\n"
    )
    return path


async def _chorus(*args: str):
    # The command runs its own event loop, so it runs in a thread beside the fake's loop.
    return await asyncio.to_thread(CliRunner().invoke, main, list(args))


async def test_set_webhook_registers_url_and_secret(
    telegram_server, fake_telegram, tmp_path
) -> None:
    path = _config_file(tmp_path, telegram_server, fake_telegram.token)
    url = "https://chorus.example.com/webhooks/telegram"
    result = await _chorus("telegram", "set-webhook", "--config", str(path), "--url", url)
    assert result.exit_code == 0, result.output
    assert url in result.output
    assert fake_telegram.webhook["url"] == url
    assert fake_telegram.webhook["secret_token"] == SECRET
    assert fake_telegram.webhook["allowed_updates"] == ["message", "edited_message"]

    result = await _chorus("telegram", "delete-webhook", "--config", str(path))
    assert result.exit_code == 0 and fake_telegram.webhook == {}


async def test_set_webhook_refusals_are_clear_and_never_print_the_token(
    telegram_server, fake_telegram, tmp_path
) -> None:
    path = _config_file(tmp_path, telegram_server, fake_telegram.token)
    result = await _chorus(
        "telegram", "set-webhook", "--config", str(path), "--url", "http://x.example/"
    )
    assert result.exit_code != 0 and "https://" in result.output

    wrong = "999:wrong-token-value"
    path = _config_file(tmp_path, telegram_server, wrong)
    result = await _chorus(
        "telegram", "set-webhook", "--config", str(path), "--url", "https://x.example/hook"
    )
    assert result.exit_code != 0
    assert "telegram.bot_token was rejected" in result.output
    assert wrong not in result.output
    assert fake_telegram.webhook == {}


async def test_rejected_token_stops_start_up_without_printing_it(
    telegram_server, make_client, config
) -> None:
    wrong = "999:wrong-token-value"
    with pytest.raises(RuntimeError, match=r"telegram\.bot_token was rejected") as info:
        await make_client(telegram_config(config, telegram_server, wrong))
    assert wrong not in str(info.value)
