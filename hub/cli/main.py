"""The ``chorus`` command line: run the hub, mint tokens, prepare the database, chat."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import sys
import threading
from importlib.metadata import version
from pathlib import Path

import click

from hub.access.tokens import ROLES
from hub.cli.sync import register as register_sync_commands
from hub.config.model import ChorusConfig, ConfigError, load_config

DEFAULT_CONFIG = Path("config.yaml")


def _load(path: Path | None) -> ChorusConfig:
    if path is None and DEFAULT_CONFIG.exists():
        path = DEFAULT_CONFIG
    try:
        return load_config(path)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="YAML config file (default: ./config.yaml when present, else built-in defaults).",
)


@click.group()
@click.version_option(version("chorus-hub"), prog_name="chorus")
def main() -> None:
    """Chorus: a chatbot-first messaging hub."""


@main.command()
@config_option
@click.option("--host", default=None, help="Override http.host.")
@click.option("--port", type=int, default=None, help="Override http.port.")
def serve(config_path: Path | None, host: str | None, port: int | None) -> None:
    """Run the hub (starts the embedded database when mongo.uri is empty)."""
    from aiohttp import web

    from hub.app import EMBEDDED_DB, create_app
    from hub.ops.database import DatabaseInUse, running_embedded
    from hub.runtime.logs import setup_logging
    from storage.embedded import EmbeddedServerError

    config = _load(config_path)
    if host is not None:
        config.http.host = host
    if port is not None:
        config.http.port = port
    running = running_embedded(config)
    if running is not None:
        raise click.ClickException(str(DatabaseInUse(str(config.mongo.embedded.data_dir), running)))
    setup_logging(config.logging.level, config.logging.json_format)
    try:
        app = create_app(config)
    except ConfigError as exc:  # e.g. an empty or short JWT secret file
        raise click.ClickException(str(exc)) from None
    try:
        web.run_app(
            app,
            host=config.http.host,
            port=config.http.port,
            shutdown_timeout=config.http.shutdown_grace_seconds,
            print=lambda text: click.echo(text, err=True),
        )
    except (DatabaseInUse, EmbeddedServerError) as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        raise click.ClickException(
            f"{config.http.host}:{config.http.port} is already in use: stop what listens "
            "there, or choose another port with --port (http.port)"
        ) from None
    finally:
        # A failed start skips the app's cleanup: the database child (its own session, so
        # it outlives us) would keep running. After a clean stop this finds it stopped.
        embedded = app.get(EMBEDDED_DB)
        if embedded is not None:
            embedded.stop()


@main.command()
@config_option
@click.option("--sub", required=True, help="Subject: the agent or admin the token is for.")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option(
    "--ttl", type=int, default=None, help="Lifetime in seconds (default auth.access_ttl_seconds)."
)
def token(config_path: Path | None, sub: str, role: str, ttl: int | None) -> None:
    """Print a signed API access token."""
    from hub.access.tokens import TokenService

    config = _load(config_path)
    if ttl is not None and ttl <= 0:
        raise click.BadParameter("must be positive", param_hint="--ttl")
    try:
        tokens = TokenService(config.auth)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(tokens.issue(sub, role, ttl))  # type: ignore[arg-type]


@main.group()
def db() -> None:
    """Database maintenance."""


@db.command("init")
@config_option
def db_init(config_path: Path | None) -> None:
    """Create the collections' indexes (idempotent; the hub also does it at start-up)."""
    from hub.ops.database import connected

    config = _load(config_path)

    async def run() -> None:
        async with connected(config) as store:
            await store.ensure_indexes(on_progress=lambda line: click.echo(f"  {line}"))
        click.echo("indexes ready")

    asyncio.run(run())


@main.command()
@config_option
@click.option(
    "--production",
    is_flag=True,
    help="Judge as production (implied when http.host is not a loopback address).",
)
@click.option("--timeout", type=float, default=5.0, show_default=True, help="Seconds per check.")
def doctor(config_path: Path | None, production: bool, timeout: float) -> None:
    """Check the configuration without starting the hub; exit 1 if anything fails."""
    from hub.doctor.run import render, run_doctor_sync

    config = _load(config_path)
    results = run_doctor_sync(config, production=production, timeout=timeout)
    click.echo(render(results))
    if any(result.status == "fail" for result in results):
        sys.exit(1)


@main.command()
@click.option("--url", default="ws://localhost:8080/chat", show_default=True)
@click.option("--name", default="", help="Your display name.")
@click.option(
    "--token-file",
    type=click.Path(path_type=Path),
    default=Path(".chorus-visitor"),
    show_default=True,
    help="Where the visitor token is kept between runs.",
)
def chat(url: str, name: str, token_file: Path) -> None:
    """Talk to the hub as a web chat customer (a development channel)."""
    import aiohttp

    visitor_token = token_file.read_text().strip() if token_file.exists() else None
    try:
        asyncio.run(_chat(url, name, token_file, visitor_token))
    except KeyboardInterrupt:
        click.echo("", err=True)
        sys.exit(130)
    except (aiohttp.ClientConnectionError, aiohttp.WSServerHandshakeError) as exc:
        raise click.ClickException(
            f"cannot reach a hub at {url} ({exc.__class__.__name__}): start one with "
            "`chorus serve`, or give its address with --url"
        ) from None


CLOSE_SECONDS = 2.0


def _stdin_lines(loop: asyncio.AbstractEventLoop) -> asyncio.Queue[str]:
    """Lines typed on stdin, read by a daemon thread so Ctrl-C never waits for Enter."""
    lines: asyncio.Queue[str] = asyncio.Queue()

    def read() -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed: chat has ended
            for line in iter(sys.stdin.readline, ""):
                loop.call_soon_threadsafe(lines.put_nowait, line)
            loop.call_soon_threadsafe(lines.put_nowait, "")  # end of input

    threading.Thread(target=read, name="chat-stdin", daemon=True).start()
    return lines


async def _chat(url: str, name: str, token_file: Path, visitor_token: str | None) -> None:
    import aiohttp

    # Leaving (Ctrl-C, end of input) waits at most CLOSE_SECONDS for the hub to answer the
    # close, not aiohttp's default ten.
    close_timeout = aiohttp.ClientWSTimeout(ws_receive=None, ws_close=CLOSE_SECONDS)
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(url, timeout=close_timeout) as ws,
    ):
        await ws.send_json(
            {"type": "hello", "visitor_token": visitor_token, "name": name or None, "history": True}
        )

        async def reader() -> None:
            async for msg in ws:
                frame = json.loads(msg.data)
                if frame["type"] == "welcome":
                    await asyncio.to_thread(token_file.write_text, frame["visitor_token"])
                elif frame["type"] == "message" and frame.get("direction") == "outbound":
                    click.echo(
                        f"\n{frame['author']['name'] or frame['author']['kind']}: {frame['text']}"
                    )
                elif frame["type"] == "history":
                    for item in frame["messages"]:
                        who = "you" if item["direction"] == "inbound" else item["author"]["kind"]
                        click.echo(f"[{who}] {item['text']}")
                    if frame.get("more") and frame["messages"]:  # the rest, page by page
                        await ws.send_json(
                            {"type": "history", "since": frame["messages"][-1]["id"]}
                        )
                elif frame["type"] == "error":
                    click.echo(f"! {frame['code']}: {frame['message']}", err=True)

        read_task = asyncio.create_task(reader())
        lines = _stdin_lines(asyncio.get_running_loop())
        while line := await lines.get():
            if line.strip():
                await ws.send_json({"type": "message", "text": line.rstrip("\n")})
        read_task.cancel()


register_sync_commands(main, config_option, _load)


def _register_extensions() -> None:
    from adapters.registry import BUILTIN_CHANNELS
    from hub.cli import agents, archive, privacy

    archive.register(main, _load, config_option)
    agents.register(main, config_option, _load)
    privacy.register(main, _load, config_option)
    for spec in BUILTIN_CHANNELS:  # each channel's own commands (`chorus telegram …`)
        if spec.cli is not None:
            spec.cli(main, config_option, _load)


_register_extensions()

if __name__ == "__main__":
    main()
