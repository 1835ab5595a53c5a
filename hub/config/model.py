"""Chorus configuration: one pydantic model tree, loaded once from YAML plus environment.

Every key may be overridden by ``CHORUS_<SECTION>__<KEY>`` (double underscore between
levels). Unknown keys and bad values stop start-up with a message naming the key. The
hub's sections are here; each channel declares its own (``adapters.registry``).
"""

from __future__ import annotations

import functools
import json
import os
import secrets
from collections.abc import Mapping
from datetime import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)

from adapters.registry import BUILTIN_CHANNELS
from hub.channels.port import ChannelSpec
from hub.channels.section import Section
from hub.config.paths import anchor_defaults, anchor_file_paths
from moderation.rules import ModerationRules

ENV_PREFIX = "CHORUS_"


class ConfigError(Exception):
    """The configuration cannot be used; the message names the key and the reason."""


class HttpConfig(Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    shutdown_grace_seconds: float = Field(default=10.0, ge=0)
    max_request_line_bytes: int = Field(default=65_536, ge=8190)
    cors_origins: list[str] = Field(default_factory=list)
    ws_allowed_origins: list[str] = Field(default_factory=list)


class EmbeddedMongoConfig(Section):
    data_dir: Path = Path("data/db")
    port: int = Field(default=0, ge=0, le=65535)
    start_timeout_seconds: float = Field(default=30.0, gt=0)


class MongoConfig(Section):
    uri: str = ""
    database: str = "chorus"
    write_concern: Literal["majority", "1"] = "majority"
    # Most inbound messages stored by one group commit; 1 turns group commit off.
    ingest_batch: int = Field(default=256, ge=1, le=10_000)
    embedded: EmbeddedMongoConfig = EmbeddedMongoConfig()
    server_selection_timeout_ms: int = Field(default=5000, ge=100)


class VerificationKey(Section):
    """An extra key tokens may be signed with (old keys during a rotation, say)."""

    kid: str = Field(min_length=1, max_length=64)
    algorithm: Literal["HS256", "RS256", "EdDSA"] = "HS256"
    secret: SecretStr = SecretStr("")
    public_key_file: Path | None = None


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
    key_id: str = Field(default="main", min_length=1, max_length=64)
    verification_keys: list[VerificationKey] = Field(default_factory=list)

    @field_validator("jwt_secret")
    @classmethod
    def _long_enough(cls, value: SecretStr) -> SecretStr:
        problem = jwt_secret_problem(value.get_secret_value())
        if value.get_secret_value() and problem:
            raise ValueError(problem)
        return value


MIN_JWT_SECRET_BYTES = 32


def jwt_secret_problem(secret: str) -> str | None:
    """Why an HMAC secret is too weak to sign tokens with, or None."""
    if not secret:
        return "is empty"
    if len(secret.encode()) < MIN_JWT_SECRET_BYTES:
        return f"is shorter than {MIN_JWT_SECRET_BYTES} bytes"
    return None


class SessionsConfig(Section):
    """Agents' password logins: refresh-token lifetime and the login attempt budget.

    Attempts are counted in memory per process, per account and per client address.
    """

    refresh_ttl_seconds: int = Field(default=14 * 24 * 3600, ge=60)
    login_burst: int = Field(default=5, ge=1)
    login_refill_per_second: float = Field(default=1 / 30, gt=0)
    # Delay for each attempt once an account's budget from all addresses is spent.
    login_slow_seconds: float = Field(default=1.0, ge=0, le=30)
    # How long a revoked session's or disabled agent's access token may still be honoured.
    revocation_check_seconds: float = Field(default=5.0, ge=0, le=300)
    trust_forwarded_for: bool = False


class OutboxConfig(Section):
    max_attempts: int = Field(default=8, ge=1)
    base_delay_seconds: float = Field(default=1.0, gt=0)
    max_delay_seconds: float = Field(default=300.0, gt=0)
    lease_seconds: float = Field(default=60.0, gt=0)
    poll_seconds: float = Field(default=5.0, gt=0)


class WebhooksConfig(Section):
    """Outbound webhooks: inbox events posted, signed, to the endpoints admins register.

    A delivery is retried with backoff for ``retry_for_seconds`` (25 hours) before it is
    dead-lettered; an endpoint failing for ``pause_after_seconds`` (3 days) is paused and
    flagged. Endpoints resolving to private, loopback or link-local addresses are refused
    unless ``allow_private_addresses`` (for a receiver on the hub's own network).
    """

    enabled: bool = True
    allow_private_addresses: bool = False
    request_timeout_seconds: float = Field(default=10.0, gt=0)
    base_delay_seconds: float = Field(default=30.0, gt=0)
    max_delay_seconds: float = Field(default=3600.0, gt=0)
    retry_for_seconds: float = Field(default=25 * 3600.0, gt=0)
    pause_after_seconds: float = Field(default=3 * 24 * 3600.0, gt=0)
    lease_seconds: float = Field(default=60.0, gt=0)
    poll_seconds: float = Field(default=5.0, gt=0)


class SyncConfig(Section):
    """Device sync, the change feed, and fan-out across hub instances."""

    feed_max_limit: int = Field(default=500, ge=1, le=10_000)
    feed_await_ms: int = Field(default=100, ge=1, le=10_000)
    snapshot_max_limit: int = Field(default=500, ge=1, le=10_000)
    push_max_items: int = Field(default=100, ge=1, le=1_000)
    fanout: Literal["change_stream", "local"] = "change_stream"


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WORKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri")


class BusinessHoursConfig(Section):
    """When humans answer; outside these hours the bot says when they are back."""

    enabled: bool = False
    timezone: str = "UTC"
    days: list[Weekday] = Field(default_factory=lambda: list(WORKDAYS))
    open: time = time(9, 0)
    close: time = time(17, 0)
    closed_message: str = (
        "Our team is away right now and back {back}. "
        "Leave your email address and we will write to you."
    )
    email_saved_message: str = "Thanks, we will write to you at {email}."

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value


class AssignmentConfig(Section):
    """How waiting conversations find an agent, and when their priority rises."""

    policy: Literal["round_robin", "least_loaded"] = "least_loaded"
    sla_seconds: float = Field(default=300.0, gt=0)
    check_seconds: float = Field(default=15.0, gt=0)


class BotConfig(Section):
    """The first responder: knowledge base answers, flows and handoff to humans."""

    enabled: bool = True
    name: str = "Chorus Bot"
    greeting: str = (
        "Hi! I am the Chorus assistant. Ask me a question, or write 'agent' to reach a person."
    )
    confidence_threshold: float = Field(default=0.4, ge=0, le=1)
    knowledge_files: list[Path] = Field(default_factory=lambda: [Path("knowledge/faq.yaml")])
    handoff_phrases: list[str] = Field(
        default_factory=lambda: ["agent", "human", "real person", "representative", "人工", "真人"]
    )
    handoff_message: str = "I am passing you to a person on our team; they will answer here."
    fallback_message: str = "Sorry, I did not understand that. Could you say it another way?"
    negative_feedback_phrases: list[str] = Field(
        default_factory=lambda: ["not helpful", "did not help", "wrong answer", "没用", "不对"]
    )
    low_confidence_turns: int = Field(default=2, ge=1)
    business_hours: BusinessHoursConfig = BusinessHoursConfig()
    webhook_url: str = ""
    webhook_timeout_seconds: float = Field(default=3.0, gt=0)
    reopen_window_seconds: float = Field(default=86_400.0, ge=0)
    rating_prompt: str = "Thanks for writing to us. How would you rate our help, from 1 to 5?"
    rating_thanks: str = "Thank you for your rating!"
    assignment: AssignmentConfig = AssignmentConfig()


class LoggingConfig(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    json_format: bool | None = None


class PublicRateConfig(Section):
    """A token bucket per client address for the public comment endpoints."""

    capacity: int = Field(default=20, ge=1)
    refill_per_second: float = Field(default=0.5, gt=0)
    max_addresses: int = Field(default=100_000, ge=100)


class ClassifierConfig(Section):
    """An optional external classifier, called by the pipeline's ``classifier`` stage."""

    url: str = ""
    token: SecretStr = SecretStr("")
    timeout_seconds: float = Field(default=2.0, gt=0)


class ModerationConfig(Section):
    enabled: bool = True
    max_comment_chars: int = Field(default=5000, ge=1)
    max_author_chars: int = Field(default=100, ge=1)
    public_rate: PublicRateConfig = PublicRateConfig()
    trust_forwarded_for: bool = False
    rules_refresh_seconds: float = Field(default=10.0, gt=0)
    classifier: ClassifierConfig = ClassifierConfig()
    rules: ModerationRules = ModerationRules()


class S3ArchiveConfig(Section):
    bucket: str = ""
    prefix: str = "chorus/"
    region: str | None = None
    endpoint_url: str | None = None
    sse: Literal["none", "AES256", "aws:kms"] = "none"
    multipart_threshold_bytes: int = Field(default=64 * 1024 * 1024, ge=5 * 1024 * 1024)


class ArchiveConfig(Section):
    store: Literal["local", "s3"] = "local"
    local_dir: Path = Path("data/archive")
    s3: S3ArchiveConfig = S3ArchiveConfig()
    after_days: int = Field(default=90, ge=0)
    delete_after_archive: bool = True
    schedule_seconds: float = Field(default=0, ge=0)


class RetentionConfig(Section):
    """How long data is kept; ``chorus retention run`` and the hub's schedule apply it.

    ``0`` keeps for ever. Messages go only with their conversation, and only once it is in
    the archive; legal holds (``/api/v1/holds``) exempt a contact or conversation."""

    schedule_seconds: float = Field(default=0, ge=0)
    conversations_days: int = Field(default=0, ge=0)
    channels: dict[str, int] = Field(default_factory=dict)  # channel name: days, checked below
    rejected_comments_days: int = Field(default=0, ge=0)
    audit_days: int = Field(default=0, ge=0)
    backups_days: int = Field(default=35, ge=1)
    batch: int = Field(default=500, ge=1, le=10_000)


MEDIA_TYPES = [
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "audio/ogg",
    "audio/mpeg",
    "audio/amr",
    "video/mp4",
]


class MediaConfig(Section):
    """Files on messages: where they are kept, what is accepted, how long a link works."""

    store: Literal["local", "s3"] = "local"
    local_dir: Path = Path("data/media")
    s3: S3ArchiveConfig = S3ArchiveConfig(prefix="chorus-media/")
    max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    # Checked against the type read from the content (magic bytes), not the file's name.
    allowed_types: list[str] = Field(default_factory=lambda: list(MEDIA_TYPES))
    url_ttl_seconds: int = Field(default=300, ge=10, le=86_400)
    thumbnail_px: int = Field(default=320, ge=16, le=2048)
    max_image_pixels: int = Field(default=40_000_000, ge=1)


class MetricsConfig(Section):
    """Where ``GET /metrics`` is served: its own listener when ``port`` is set, else the
    main port; behind ``Authorization: Bearer <token>`` whenever ``token`` is set. On the
    main port without a token it is refused unless ``public`` says to serve it openly."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int | None = Field(default=None, ge=0, le=65535)
    token: SecretStr = SecretStr("")
    public: bool = False


class CoreConfig(Section):
    """The hub's own sections; each channel's section joins from the channel registry."""

    http: HttpConfig = HttpConfig()
    mongo: MongoConfig = MongoConfig()
    auth: AuthConfig = AuthConfig()
    outbox: OutboxConfig = OutboxConfig()
    sync: SyncConfig = SyncConfig()
    logging: LoggingConfig = LoggingConfig()
    webhooks: WebhooksConfig = WebhooksConfig()
    bot: BotConfig = BotConfig()
    moderation: ModerationConfig = ModerationConfig()
    archive: ArchiveConfig = ArchiveConfig()
    media: MediaConfig = MediaConfig()
    metrics: MetricsConfig = MetricsConfig()
    retention: RetentionConfig = RetentionConfig()
    sessions: SessionsConfig = SessionsConfig()

    # The channels whose sections this model holds, in registry order.
    channels: ClassVar[tuple[ChannelSpec[Any], ...]] = ()

    @model_validator(mode="after")
    def _retention_channels_known(self) -> CoreConfig:
        known = {spec.name for spec in type(self).channels}
        unknown = sorted(set(self.retention.channels) - known)
        if unknown and known:
            raise ValueError(f"retention.channels: unknown channel {', '.join(unknown)}")
        return self


@functools.cache
def config_model(channels: tuple[ChannelSpec[Any], ...]) -> type[CoreConfig]:
    """The configuration tree for a registry: the hub's sections plus one per channel."""
    sections: dict[str, Any] = {
        spec.section: (spec.config, Field(default_factory=spec.config)) for spec in channels
    }
    model = create_model(
        "ChorusConfig", __base__=CoreConfig, __doc__=CoreConfig.__doc__, **sections
    )
    model.channels = channels
    return model


if TYPE_CHECKING:

    class ChorusConfig(CoreConfig):
        """The whole tree; a channel's section is reached through its ``ChannelSpec``."""

        def __getattr__(self, name: str) -> Any: ...

else:
    ChorusConfig = config_model(BUILTIN_CHANNELS)


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
        reason = reason.removeprefix("Value error, ")
        lines.append(f"{key}: {reason}" if key else reason)  # a whole-tree check names its key
    if len(lines) == 1:  # the usual case reads as one line
        return f"invalid configuration: {lines[0]}"
    return "invalid configuration:\n" + "\n".join(f"  {line}" for line in lines)


def load_config(
    path: Path | None = None,
    environ: Mapping[str, str] | None = None,
    channels: tuple[ChannelSpec[Any], ...] = BUILTIN_CHANNELS,
) -> ChorusConfig:
    """Read ``path`` (if given and present), apply environment overrides, validate.

    Relative paths are anchored (``hub.config.paths``): the file's against its folder,
    the defaults against the Chorus checkout; the environment's stay as given."""
    model = config_model(channels)
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
        data = anchor_file_paths(model, loaded or {}, path.resolve().parent)
    data = _merge(data, _env_overrides(os.environ if environ is None else environ))
    try:
        config = cast(ChorusConfig, model.model_validate(data))
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None
    anchor_defaults(config)
    return config


def jwt_secret(auth: AuthConfig) -> str:
    """The HMAC secret: from config/env, else from the secret file (created on first use)."""
    configured = auth.jwt_secret.get_secret_value()
    if configured:
        return configured
    path = auth.jwt_secret_file
    if path.exists():
        return _secret_from_file(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first
        return _secret_from_file(path)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(secret)
    return secret


def _secret_from_file(path: Path) -> str:
    secret = path.read_text(encoding="utf-8").strip()
    problem = jwt_secret_problem(secret)
    if problem:
        raise ConfigError(
            f"auth.jwt_secret_file {path} {problem}: put 32 or more random bytes in it"
        )
    return secret
