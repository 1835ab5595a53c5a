"""``chorus agent add``: create (or update) an agent who logs in to the web inbox."""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import Callable
from pathlib import Path

import click

from hub.addresses import valid_email
from hub.config import ChorusConfig
from hub.domain import Agent

Loader = Callable[[Path | None], ChorusConfig]
Command = Callable[..., None]


def agent_id_for(email: str) -> str:
    """A readable id from the address's local part: ``Ada.L@x.org`` → ``ada-l``."""
    return re.sub(r"[^a-z0-9]+", "-", email.split("@", 1)[0].lower()).strip("-") or "agent"


async def add_agent(
    config: ChorusConfig, email: str, name: str, role: str, password: str, agent_id: str | None
) -> Agent:
    """Create the agent, or update the one with this email, and set the password hash."""
    from hub.api.auth import hash_password
    from hub.database import connected
    from storage.agents import AgentStore

    async with connected(config) as mongo:
        await mongo.ensure_indexes()
        store = AgentStore(mongo)
        existing = await store.credentials(email)
        target = existing[0].id if existing else (agent_id or agent_id_for(email))
        agent = await store.upsert(target, {"email": email, "name": name, "role": role})
        await store.set_password_hash(agent.id, await asyncio.to_thread(hash_password, password))
        return agent


def _read_password(from_stdin: bool) -> str:
    if from_stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 8:
        raise click.BadParameter("passwords are at least 8 characters", param_hint="password")
    return str(password)


def register(main: click.Group, config_option: Callable[[Command], Command], load: Loader) -> None:
    """Add ``chorus agent …`` to the command group."""

    @main.group()
    def agent() -> None:
        """Agents who log in to the web inbox."""

    @agent.command("add")
    @config_option
    @click.option("--email", required=True, help="Login email (stored lower-case).")
    @click.option("--name", required=True, help="Display name customers see.")
    @click.option(
        "--role", type=click.Choice(["agent", "admin"]), default="agent", show_default=True
    )
    @click.option("--id", "agent_id", default=None, help="Agent id (default: from the email).")
    @click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
    def add(
        config_path: Path | None,
        email: str,
        name: str,
        role: str,
        agent_id: str | None,
        password_stdin: bool,
    ) -> None:
        """Create an agent with a password (prompted on a terminal), or reset one."""
        checked = valid_email(email)
        if checked is None:
            raise click.BadParameter("not an email address", param_hint="--email")
        email = checked
        password = _read_password(password_stdin)
        created = asyncio.run(add_agent(load(config_path), email, name, role, password, agent_id))
        click.echo(f"agent {created.id} <{email}> ({created.role}) ready")
