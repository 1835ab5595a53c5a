"""``chorus agent add|disable|enable``: the agents who log in to the web inbox.

``add`` never rewrites an agent by accident: an email already in use needs ``--update``
(which keeps the email), and a new email whose id is taken is refused.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path

import click

from hub.config.model import ChorusConfig
from hub.core.addresses import valid_email
from hub.domain import Agent, agent_id_for

Loader = Callable[[Path | None], ChorusConfig]
Command = Callable[..., None]


class AgentConflict(Exception):
    """``agent add`` would change an agent the caller did not ask to change."""


async def add_agent(
    config: ChorusConfig,
    email: str,
    name: str,
    role: str,
    password: str,
    agent_id: str | None,
    *,
    update: bool = False,
) -> Agent:
    """Create the agent, or with ``update`` reset the one with this email; set the password."""
    from hub.api.auth import hash_password
    from hub.ops.database import connected
    from storage.agents import AgentStore

    async with connected(config) as mongo:
        await mongo.ensure_indexes()
        store = AgentStore(mongo)
        existing = await store.credentials(email)
        if existing is not None:
            target = existing[0].id
            if not update:
                raise AgentConflict(
                    f"agent {target} already has the email {email}; "
                    "pass --update to reset its name, role and password"
                )
        else:
            target = agent_id or agent_id_for(email)
            taken = await store.get(target)
            if taken is not None:
                raise AgentConflict(
                    f"agent id {target} is taken by {taken.email or 'an agent without email'}; "
                    "choose another with --id"
                )
            if update:
                raise AgentConflict(f"no agent has the email {email}; leave out --update")
        agent = await store.upsert(target, {"email": email, "name": name, "role": role})
        await store.set_password_hash(agent.id, await asyncio.to_thread(hash_password, password))
        return agent


async def set_agent_disabled(config: ChorusConfig, email: str, disabled: bool) -> Agent:
    """Disable (ending every session) or enable the agent with this email."""
    from hub.ops.database import connected
    from storage.agents import AgentStore
    from storage.sessions import SessionStore

    async with connected(config) as mongo:
        store = AgentStore(mongo)
        found = await store.credentials(email)
        if found is None:
            raise AgentConflict(f"no agent has the email {email}")
        agent = await store.set_disabled(found[0].id, disabled)
        assert agent is not None
        if disabled:
            await SessionStore(mongo, config.sessions.refresh_ttl_seconds).revoke_agent(agent.id)
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
    @click.option("--update", is_flag=True, help="Reset the agent that has this email.")
    def add(
        config_path: Path | None,
        email: str,
        name: str,
        role: str,
        agent_id: str | None,
        password_stdin: bool,
        update: bool,
    ) -> None:
        """Create an agent with a password (prompted on a terminal), or reset one (--update)."""
        checked = valid_email(email)
        if checked is None:
            raise click.BadParameter("not an email address", param_hint="--email")
        email = checked
        password = _read_password(password_stdin)
        try:
            created = asyncio.run(
                add_agent(load(config_path), email, name, role, password, agent_id, update=update)
            )
        except AgentConflict as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"agent {created.id} <{email}> ({created.role}) ready")

    for disabled in (True, False):
        agent.add_command(_toggle_command(disabled, config_option, load))


def _toggle_command(
    disabled: bool, config_option: Callable[[Command], Command], load: Loader
) -> click.Command:
    verb = "disable" if disabled else "enable"

    @click.command(verb, help=f"{verb.capitalize()} the agent with this email.")
    @config_option
    @click.argument("email")
    def toggle(config_path: Path | None, email: str) -> None:
        email = email.strip().lower()
        try:
            found = asyncio.run(set_agent_disabled(load(config_path), email, disabled))
        except AgentConflict as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"agent {found.id} <{email}> {verb}d")

    return toggle
