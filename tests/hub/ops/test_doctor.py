"""``chorus doctor`` against the session database and local fakes of the platforms."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pydantic import SecretStr

from hub.cli.main import main
from hub.config.model import ChorusConfig
from hub.doctor.run import CheckResult, render, run_doctor
from storage.embedded import free_port
from storage.mongo import MongoStore, make_client
from tests.fakes.credential_apis import SLACK_TOKEN, TELEGRAM_TOKEN, TWITTER_KEYS, CredentialApis


def _with(config: ChorusConfig, **sections: dict[str, Any]) -> ChorusConfig:
    """``config`` with the named sections set (validated as the real config would be)."""
    data = config.model_dump()
    for name, values in sections.items():
        data[name] = {**data.get(name, {}), **values}
    return ChorusConfig.model_validate(data)


SLACK_REQUIRED = {"signing_secret": "signing-secret", "agent_channel": "C0AGENTS"}
TWITTER_USER = {"account_user_id": "42"}


def _by_name(results: list[CheckResult]) -> dict[str, CheckResult]:
    return {result.name: result for result in results}


def _doctor(*args: str, env: dict[str, str]) -> Any:
    return CliRunner().invoke(main, ["doctor", "--timeout", "2", *args], env=env)


def test_bad_uri_fails_with_the_uri_advice() -> None:
    result = _doctor(env={"CHORUS_MONGO__URI": "postgres://db.example/chorus"})
    assert result.exit_code == 1
    assert "mongo.reachable" in result.output and "FAIL" in result.output
    assert "not a valid MongoDB URI" in result.output
    assert "fix: use mongodb://host1,host2,host3/?replicaSet=rs0" in result.output


def test_unreachable_database_fails_with_connectivity_advice() -> None:
    uri = f"mongodb://127.0.0.1:{free_port()}/?directConnection=true"
    result = _doctor(env={"CHORUS_MONGO__URI": uri})
    assert result.exit_code == 1
    assert "cannot reach the database" in result.output
    assert "that MongoDB runs" in result.output


def test_fresh_database_lacks_indexes_until_db_init(mongo_uri, db_name, db) -> None:
    env = {"CHORUS_MONGO__URI": mongo_uri, "CHORUS_MONGO__DATABASE": db_name}
    before = _doctor(env=env)
    assert before.exit_code == 1, before.output
    assert "mongo.indexes" in before.output and "run `chorus db init`" in before.output
    assert "replica set" in before.output  # the session server reports a replica set
    assert "clock.skew" in before.output

    assert CliRunner().invoke(main, ["db", "init"], env=env).exit_code == 0
    after = _doctor(env=env)
    assert after.exit_code == 0, after.output
    lines = {line.split()[0]: line for line in after.output.splitlines() if line.strip()}
    for check in ("mongo.reachable", "mongo.replica_set", "mongo.indexes", "clock.skew"):
        assert " PASS " in lines[check], lines[check]


async def test_missing_and_rejected_credentials_and_unwritable_store(
    aiohttp_server, config, tmp_path: Path
) -> None:
    apis = CredentialApis()
    server = await aiohttp_server(apis.app())
    base = str(server.make_url("")).rstrip("/")
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the archive directory should be")
    cfg = _with(
        config,
        telegram={
            "enabled": True,
            "bot_token": "123456:revoked",
            "api_base_url": base,
            "mode": "polling",
        },
        slack={
            "enabled": True,
            "bot_token": "xoxb-revoked",
            "api_base_url": base + "/api",
            **SLACK_REQUIRED,
        },
        twitter={"enabled": True, "api_base_url": base, **TWITTER_USER, **TWITTER_KEYS},
        archive={"store": "local", "local_dir": str(blocker / "archive")},
    )
    results = _by_name(await run_doctor(cfg, check_seconds=2))

    telegram = results["telegram.credentials"]
    assert telegram.status == "fail"
    assert "CHORUS_TELEGRAM__BOT_TOKEN" in telegram.fix
    slack = results["slack.credentials"]
    assert slack.status == "fail" and "invalid_auth" in slack.detail
    assert "CHORUS_SLACK__BOT_TOKEN" in slack.fix
    assert results["twitter.credentials"].status == "pass"
    archive = results["archive.store"]
    assert archive.status == "fail" and "writable" in archive.fix
    # The table shows each failure's fix under it.
    table = render(list(results.values()))
    assert f"fix: {archive.fix}" in table
    assert apis.calls.count("slack.auth.test") == 1
    assert apis.calls.count("telegram.getMe") == 1


async def test_valid_credentials_and_writable_store_pass(aiohttp_server, config, tmp_path) -> None:
    apis = CredentialApis()
    server = await aiohttp_server(apis.app())
    base = str(server.make_url("")).rstrip("/")
    cfg = _with(
        config,
        telegram={
            "enabled": True,
            "bot_token": TELEGRAM_TOKEN,
            "api_base_url": base,
            "mode": "polling",
        },
        slack={
            "enabled": True,
            "bot_token": SLACK_TOKEN,
            "api_base_url": base + "/api",
            **SLACK_REQUIRED,
        },
        archive={"store": "local", "local_dir": str(tmp_path / "archive")},
    )
    results = _by_name(await run_doctor(cfg, check_seconds=2))
    assert results["telegram.credentials"].status == "pass"
    assert "@chorus_bot" in results["telegram.credentials"].detail
    assert results["slack.credentials"].status == "pass"
    assert results["twitter.credentials"].status == "skip"
    assert results["archive.store"].status == "pass"
    assert list((tmp_path / "archive").iterdir()) == []  # the probe was removed


async def test_wrong_twitter_secret_is_refused(aiohttp_server, config) -> None:
    server = await aiohttp_server(CredentialApis().app())
    keys = {k: SecretStr(v) for k, v in TWITTER_KEYS.items()}
    keys["access_token_secret"] = SecretStr("stale")
    cfg = _with(
        config,
        twitter={
            "enabled": True,
            "api_base_url": str(server.make_url("")).rstrip("/"),
            **TWITTER_USER,
            **keys,
        },
    )
    twitter = _by_name(await run_doctor(cfg, check_seconds=2))["twitter.credentials"]
    assert twitter.status == "fail" and "401" in twitter.detail
    assert "CHORUS_TWITTER__ACCESS_TOKEN_SECRET" in twitter.fix


async def test_twitter_check_signs_as_x_normalizes_the_url(aiohttp_server, config) -> None:
    # X signs over the normalized URL (lower-case scheme and host, no default port): a base
    # URL written otherwise must still verify, as it does for the channel's own client.
    apis = CredentialApis()
    server = await aiohttp_server(apis.app())
    cfg = _with(
        config,
        twitter={
            "enabled": True,
            "api_base_url": f"HTTP://LOCALHOST:{server.port}",
            **TWITTER_USER,
            **{k: SecretStr(v) for k, v in TWITTER_KEYS.items()},
        },
    )
    twitter = _by_name(await run_doctor(cfg, check_seconds=2))["twitter.credentials"]
    assert (twitter.status, twitter.detail) == ("pass", "users/me: @chorus")
    assert apis.calls == ["twitter.users.me"]


@pytest.mark.parametrize(
    ("env", "name", "advice"),
    [
        ({"CHORUS_MONGO__URI": ""}, "mongo.reachable", "replica set"),
        ({"CHORUS_METRICS__PUBLIC": "true"}, "metrics.exposure", "CHORUS_METRICS__TOKEN"),
    ],
)
def test_production_refuses_development_settings(mongo_uri, env, name, advice) -> None:
    base = {"CHORUS_MONGO__URI": mongo_uri, "CHORUS_HTTP__HOST": "0.0.0.0"}
    result = _doctor(env={**base, **env})
    assert result.exit_code == 1
    line = next(line for line in result.output.splitlines() if line.startswith(name))
    assert " FAIL " in line
    assert advice in result.output


def test_metrics_token_satisfies_production(mongo_uri, db_name) -> None:
    env = {"CHORUS_MONGO__URI": mongo_uri, "CHORUS_MONGO__DATABASE": db_name}
    env["CHORUS_METRICS__TOKEN"] = "scrape-secret"
    result = _doctor("--production", env=env)
    line = next(line for line in result.output.splitlines() if line.startswith("metrics.exposure"))
    assert " PASS " in line
    assert "scrape-secret" not in result.output


async def test_indexes_created_by_the_store_are_seen(mongo_uri, db_name, config, db) -> None:
    store = MongoStore(make_client(mongo_uri), db_name)
    await store.ensure_indexes()
    await store.close()
    results = _by_name(await run_doctor(config, check_seconds=2))
    assert results["mongo.indexes"].status == "pass"
