from pathlib import Path

import pytest

from hub.config.model import ConfigError, load_config

ROOT = Path(__file__).resolve().parents[3]


def test_shipped_sample_config_is_valid() -> None:
    config = load_config(ROOT / "config.yaml", environ={})
    assert config.http.port == 8080
    assert config.mongo.uri == ""


def test_environment_overrides_nested_keys() -> None:
    config = load_config(
        None,
        environ={
            "CHORUS_HTTP__PORT": "9000",
            "CHORUS_MONGO__URI": "mongodb://db.example:27017/?replicaSet=rs0",
            "CHORUS_MONGO__EMBEDDED__DATA_DIR": "/var/lib/chorus",
            "CHORUS_AUTH__JWT_SECRET": "s3cret-" + "s" * 32,
            "UNRELATED": "ignored",
        },
    )
    assert config.http.port == 9000
    assert config.mongo.uri.endswith("replicaSet=rs0")
    assert str(config.mongo.embedded.data_dir) == "/var/lib/chorus"
    assert config.auth.jwt_secret.get_secret_value() == "s3cret-" + "s" * 32


def test_unknown_key_names_the_key(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("http:\n  prot: 80\n")
    with pytest.raises(ConfigError, match=r"http\.prot: unknown key"):
        load_config(path, environ={})


def test_bad_value_names_the_key_and_reason() -> None:
    with pytest.raises(ConfigError, match=r"http\.port: .*less than or equal to 65535"):
        load_config(None, environ={"CHORUS_HTTP__PORT": "70000"})


def test_unknown_env_section_is_refused() -> None:
    with pytest.raises(ConfigError, match="nosuch: unknown key"):
        load_config(None, environ={"CHORUS_NOSUCH__KEY": "1"})


def test_invalid_yaml_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("http: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(path, environ={})


def test_secret_is_not_printed_in_repr() -> None:
    config = load_config(None, environ={"CHORUS_AUTH__JWT_SECRET": "topsecretvalue" * 3})
    assert "topsecretvalue" not in repr(config)


def test_slack_enabled_without_secrets_names_the_missing_key() -> None:
    with pytest.raises(ConfigError, match=r"slack\.bot_token is required"):
        load_config(None, environ={"CHORUS_SLACK__ENABLED": "true"})
    with pytest.raises(ConfigError, match=r"slack\.signing_secret is required"):
        load_config(
            None, environ={"CHORUS_SLACK__ENABLED": "true", "CHORUS_SLACK__BOT_TOKEN": "xoxb-1"}
        )


def test_slack_agents_mapping_from_the_environment() -> None:
    config = load_config(
        None,
        environ={
            "CHORUS_SLACK__ENABLED": "true",
            "CHORUS_SLACK__BOT_TOKEN": "xoxb-1",
            "CHORUS_SLACK__SIGNING_SECRET": "s",
            "CHORUS_SLACK__AGENT_CHANNEL": "C1",
            "CHORUS_SLACK__API_BASE_URL": "http://127.0.0.1:9/api",
            "CHORUS_SLACK__AGENTS": '{"U1": "agent-1"}',
        },
    )
    assert config.slack.agents == {"U1": "agent-1"}
    assert config.slack.api_base_url == "http://127.0.0.1:9/api/"
    assert "xoxb-1" not in repr(config)
