"""Chorus configuration: one pydantic model tree, loaded once from YAML plus environment.

Every key may be overridden by ``CHORUS_<SECTION>__<KEY>`` (double underscore between
levels). Unknown keys and bad values stop start-up with a message naming the key.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

ENV_PREFIX = "CHORUS_"


class ConfigError(Exception):
    """The configuration cannot be used; the message names the key and the reason."""


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class HttpConfig(Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    shutdown_grace_seconds: float = Field(default=10.0, ge=0)


class EmbeddedMongoConfig(Section):
    data_dir: Path = Path("data/db")
    port: int = Field(default=0, ge=0, le=65535)
    start_timeout_seconds: float = Field(default=30.0, gt=0)


class MongoConfig(Section):
    uri: str = ""
    database: str = "chorus"
    write_concern: Literal["majority", "1"] = "majority"
    embedded: EmbeddedMongoConfig = EmbeddedMongoConfig()
    server_selection_timeout_ms: int = Field(default=5000, ge=100)


class AuthConfig(Section):
    jwt_secret: SecretStr = SecretStr("")
    jwt_secret_file: Path = Path("data/jwt_secret")
    algorithm: Literal["HS256", "RS256", "EdDSA"] = "HS256"
    private_key_file: Path | None = None
    public_key_file: Path | None = None
    issuer: str = "chorus"
    audience: str = "chorus-api"
    access_ttl_seconds: int = Field(default=900, ge=10)
    visitor_token_ttl_days: int = Field(default=365, ge=1)


class WebChatConfig(Section):
    enabled: bool = True
    max_frame_bytes: int = Field(default=16_384, ge=256)
    max_text_chars: int = Field(default=4_000, ge=1)
    heartbeat_seconds: float = Field(default=25.0, gt=0)
    send_queue_size: int = Field(default=256, ge=1)
    history_limit: int = Field(default=100, ge=1, le=1000)


class OutboxConfig(Section):
    max_attempts: int = Field(default=8, ge=1)
    base_delay_seconds: float = Field(default=1.0, gt=0)
    max_delay_seconds: float = Field(default=300.0, gt=0)
    lease_seconds: float = Field(default=60.0, gt=0)
    poll_seconds: float = Field(default=5.0, gt=0)


class LoggingConfig(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    json_format: bool | None = None


class MetricsConfig(Section):
    """Where ``GET /metrics`` is served: its own listener when ``port`` is set, else the
    main port; behind ``Authorization: Bearer <token>`` whenever ``token`` is set."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int | None = Field(default=None, ge=0, le=65535)
    token: SecretStr = SecretStr("")


class ChorusConfig(Section):
    """The whole configuration tree; sections are added by the features that own them."""

    http: HttpConfig = HttpConfig()
    mongo: MongoConfig = MongoConfig()
    auth: AuthConfig = AuthConfig()
    web: WebChatConfig = WebChatConfig()
    outbox: OutboxConfig = OutboxConfig()
    logging: LoggingConfig = LoggingConfig()
    metrics: MetricsConfig = MetricsConfig()


def _env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        path = [part.lower() for part in name[len(ENV_PREFIX) :].split("__")]
        node = tree
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = _parse_env_value(raw)
    return tree


def _parse_env_value(raw: str) -> Any:
    # Lists and objects may be given as JSON; everything else stays a string for pydantic.
    if raw[:1] in "[{":
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            return raw
    return raw


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _describe(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"])
        reason = "unknown key" if item["type"] == "extra_forbidden" else item["msg"]
        lines.append(f"  {key}: {reason}")
    return "invalid configuration:\n" + "\n".join(lines)


def load_config(path: Path | None = None, environ: Mapping[str, str] | None = None) -> ChorusConfig:
    """Read ``path`` (if given and present), apply environment overrides, validate."""
    data: dict[str, Any] = {}
    if path is not None:
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"config file not found: {path}") from exc
        except yaml.YAMLError as exc:
            raise ConfigError(f"config file {path} is not valid YAML: {exc}") from exc
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError(f"config file {path} must hold a mapping at the top level")
        data = loaded or {}
    data = _merge(data, _env_overrides(os.environ if environ is None else environ))
    try:
        return ChorusConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None


def jwt_secret(auth: AuthConfig) -> str:
    """The HMAC secret: from config/env, else from the secret file (created on first use)."""
    configured = auth.jwt_secret.get_secret_value()
    if configured:
        return configured
    path = auth.jwt_secret_file
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(secret)
    return secret
