"""The channel registry drives the hub: a channel declared only here, in a test, gets its
config section parsed (file, environment, unknown keys refused), its doctor check run and
its messages routed both ways, with no other file naming it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from adapters.registry import BUILTIN_CHANNELS
from hub.app import create_app
from hub.channels.checks import CheckResult, ProbeContext
from hub.channels.port import Capability, ChannelAdapter, ChannelServices, ChannelSpec, HubPort
from hub.channels.section import ChannelSection
from hub.config.model import ConfigError, load_config
from hub.doctor.run import run_doctor
from hub.domain import Author, DeliveryResult, InboundMessage, OutboundMessage
from hub.state import HUB
from tests.helpers.hub import wait_for


class EchoConfig(ChannelSection):
    greeting: str = "hi"
    api_key: str = ""


class EchoAdapter:
    """A platform that posts JSON to ``/webhooks/echo`` and keeps what it was sent."""

    channel = "echo"

    def __init__(self, config: EchoConfig, hub: HubPort) -> None:
        self.config = config
        self.hub = hub
        self.sent: list[OutboundMessage] = []

    def routes(self) -> Sequence[web.AbstractRouteDef]:
        return [web.post("/webhooks/echo", self.webhook)]

    async def webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        inbound = InboundMessage(
            channel=self.channel,
            external_id=body["id"],
            sender_id=body["from"],
            thread_key=body["from"],
            text=body["text"],
        )
        result = await self.hub.receive(inbound)
        return web.json_response({"conversation_id": result.conversation.id})

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def send(self, outbound: OutboundMessage) -> DeliveryResult:
        self.sent.append(outbound)
        return DeliveryResult.sent(f"echo-{len(self.sent)}")


def build_echo(section: EchoConfig, services: ChannelServices) -> ChannelAdapter:
    return EchoAdapter(section, services.hub)


async def check_echo(section: EchoConfig, ctx: ProbeContext) -> CheckResult:
    if not section.api_key:
        return CheckResult("echo.credentials", "fail", "echo.api_key is empty", "set it")
    return CheckResult("echo.credentials", "pass", f"key of {len(section.api_key)} characters")


ECHO = ChannelSpec(
    name="echo", section="echo", config=EchoConfig, build=build_echo, doctor=check_echo
)
CHANNELS = (*BUILTIN_CHANNELS, ECHO)


@pytest.fixture
def env(mongo_uri: str, db_name: str, tmp_path: Path) -> dict[str, str]:
    return {
        "CHORUS_MONGO__URI": mongo_uri,
        "CHORUS_MONGO__DATABASE": db_name,
        "CHORUS_AUTH__JWT_SECRET": "test-secret-" + "x" * 32,
        "CHORUS_OUTBOX__POLL_SECONDS": "0.2",
        "CHORUS_BOT__ENABLED": "false",
        "CHORUS_ECHO__API_KEY": "from-the-environment",
    }


def test_a_registered_channel_gets_its_section_from_file_and_environment(
    tmp_path: Path, env: dict[str, str]
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("echo:\n  enabled: true\n  greeting: 你好\n", encoding="utf-8")
    config = load_config(path, env, channels=CHANNELS)
    echo = ECHO.section_of(config)
    assert (echo.enabled, echo.greeting, echo.api_key) == (True, "你好", "from-the-environment")

    path.write_text("echo:\n  enabled: true\n  colour: blue\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"echo\.colour: unknown key"):
        load_config(path, env, channels=CHANNELS)
    # Without the registry line the section is not there at all.
    with pytest.raises(ConfigError, match=r"^invalid configuration: echo: unknown key"):
        load_config(path, env)


async def test_a_registered_channels_doctor_check_runs_when_enabled(
    tmp_path: Path, env: dict[str, str]
) -> None:
    config = load_config(None, env | {"CHORUS_ECHO__ENABLED": "true"}, channels=CHANNELS)
    results = {r.name: r for r in await run_doctor(config, check_seconds=2)}
    assert results["echo.credentials"].status == "pass"
    assert results["echo.credentials"].detail == "key of 20 characters"

    config = load_config(None, env, channels=CHANNELS)
    results = {r.name: r for r in await run_doctor(config, check_seconds=2)}
    assert results["echo.credentials"].status == "skip"


async def test_a_registered_channel_routes_both_ways(
    aiohttp_client: Any, env: dict[str, str]
) -> None:
    config = load_config(None, env | {"CHORUS_ECHO__ENABLED": "true"}, channels=CHANNELS)
    app = create_app(config)
    client = await aiohttp_client(app)

    resp = await client.post(
        "/webhooks/echo", json={"id": "m-1", "from": "ada", "text": "is anyone there?"}
    )
    assert resp.status == 200
    conversation_id = (await resp.json())["conversation_id"]
    conversation = await app[HUB].require_conversation(conversation_id)
    assert conversation.channel == "echo"

    reply = await app[HUB].reply(conversation_id, Author(kind="agent", id="bo"), "yes, Bo here")
    adapter = app[HUB].outbox.adapters["echo"]
    assert isinstance(adapter, EchoAdapter)
    await wait_for(lambda: _async(adapter.sent))
    assert [(m.message_id, m.text, m.recipient_id) for m in adapter.sent] == [
        (reply.id, "yes, Bo here", "ada")
    ]


async def _async(value: Any) -> Any:
    return value


def test_a_declared_capability_the_adapter_lacks_stops_the_build(env: dict[str, str]) -> None:
    boasting = ChannelSpec(
        name="echo",
        section="echo",
        config=EchoConfig,
        build=build_echo,
        capabilities=frozenset({Capability.STATUS}),
    )
    config = load_config(None, env | {"CHORUS_ECHO__ENABLED": "true"}, channels=(boasting,))
    with pytest.raises(TypeError, match="channel echo declares status but lacks it"):
        create_app(config)
