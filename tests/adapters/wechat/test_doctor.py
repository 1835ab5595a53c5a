"""``chorus doctor`` checks the WeChat credentials with one ``stable_token`` call against
the fake WeChat API: a pass names the account, each refusal says what to fix."""

from __future__ import annotations

from click.testing import CliRunner

from hub.cli.main import main
from hub.config.model import ChorusConfig
from hub.doctor.run import run_doctor
from tests.fakes.wechat_api import APP_ID, FakeWeChatAPI
from tests.helpers.wechat import wechat_config


async def _wechat_check(config: ChorusConfig) -> object:
    results = {r.name: r for r in await run_doctor(config, check_seconds=2)}
    return results["wechat.credentials"]


async def test_good_credentials_pass_with_one_token_call(
    config, wechat_server, fake_wechat: FakeWeChatAPI
) -> None:
    check = await _wechat_check(wechat_config(config, wechat_server))
    assert (check.status, check.detail) == ("pass", f"stable_token: {APP_ID}")
    assert fake_wechat.token_calls == 1


async def test_a_wrong_secret_and_a_missing_whitelist_entry_say_what_to_fix(
    config, wechat_server, fake_wechat: FakeWeChatAPI
) -> None:
    check = await _wechat_check(wechat_config(config, wechat_server, app_secret="f" * 32))
    assert check.status == "fail" and "40125" in check.detail
    assert "CHORUS_WECHAT__APP_SECRET" in check.fix

    fake_wechat.whitelisted = False
    check = await _wechat_check(wechat_config(config, wechat_server))
    assert check.status == "fail" and "40164" in check.detail
    assert "IP whitelist" in check.fix
    assert "0123456789abcdef" not in check.detail + check.fix  # the secret is never shown


def test_the_cli_reports_an_unreachable_wechat_api(mongo_uri: str, db_name: str) -> None:
    env = {
        "CHORUS_MONGO__URI": mongo_uri,
        "CHORUS_MONGO__DATABASE": db_name,
        "CHORUS_WECHAT__ENABLED": "true",
        "CHORUS_WECHAT__APP_ID": APP_ID,
        "CHORUS_WECHAT__APP_SECRET": "s",
        "CHORUS_WECHAT__TOKEN": "t",
        "CHORUS_WECHAT__MODE": "plain",
        "CHORUS_WECHAT__API_BASE_URL": "http://127.0.0.1:9",
    }
    result = CliRunner().invoke(main, ["doctor", "--timeout", "2"], env=env)
    line = next(line for line in result.output.splitlines() if line.startswith("wechat."))
    assert "FAIL" in line and "cannot reach http://127.0.0.1:9/cgi-bin/stable_token" in line
    assert "fix: check wechat.api_base_url" in result.output
