"""``chorus agent add|disable|enable`` run as an operator would: no agent is rewritten
by accident, and disabling ends the agent's sessions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from pymongo import MongoClient

from hub.cli.main import main

PASSWORD = "correct horse battery\n"


@pytest.fixture
def env(mongo_uri: str, db_name: str, tmp_path: Path) -> dict[str, str]:
    return {"CHORUS_MONGO__URI": mongo_uri, "CHORUS_MONGO__DATABASE": db_name}


@pytest.fixture
def agents(mongo_uri: str, db_name: str) -> Any:
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri)
    yield client[db_name]["agents"]
    client.drop_database(db_name)
    client.close()


def chorus(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(main, ["agent", *args], env=env, input=PASSWORD)


def _add(env: dict[str, str], email: str, name: str, *extra: str) -> Result:
    return chorus(env, "add", "--email", email, "--name", name, "--password-stdin", *extra)


def test_a_new_email_with_a_taken_local_part_is_refused(env, agents) -> None:
    assert _add(env, "ada@one.example", "Ada One").exit_code == 0
    before = agents.find_one({"_id": "ada"})
    result = _add(env, "ada@two.example", "Ada Two")
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: agent id ada is taken by ada@one.example; choose another with --id"
    ]
    # Not even --update changes another agent's email.
    assert _add(env, "ada@two.example", "Ada Two", "--update").exit_code == 1
    assert agents.find_one({"_id": "ada"}) == before
    created = _add(env, "ada@two.example", "Ada Two", "--id", "ada-two")
    assert created.exit_code == 0, created.output
    assert agents.find_one({"_id": "ada-two"})["email"] == "ada@two.example"


def test_an_existing_email_needs_update_and_keeps_its_email(env, agents) -> None:
    assert _add(env, "bo@example.org", "Bo").exit_code == 0
    hash_before = agents.find_one({"_id": "bo"})["password_hash"]
    result = _add(env, "bo@example.org", "Bo Jensen")
    assert result.exit_code == 1 and "pass --update" in result.output
    assert agents.find_one({"_id": "bo"})["name"] == "Bo"
    result = _add(env, "BO@example.org", "Bo Jensen", "--update", "--role", "admin")
    assert result.exit_code == 0, result.output
    stored = agents.find_one({"_id": "bo"})
    assert (stored["email"], stored["name"], stored["role"]) == (
        "bo@example.org",
        "Bo Jensen",
        "admin",
    )
    assert stored["password_hash"] != hash_before
    result = _add(env, "nobody@example.org", "Nobody", "--update")
    assert result.exit_code == 1 and "no agent has the email" in result.output


def test_disable_and_enable_from_the_command_line(env, agents) -> None:
    assert _add(env, "cy@example.org", "Cy").exit_code == 0
    sessions = agents.database["refresh_tokens"]
    sessions.insert_one({"_id": "digest", "family": "f1", "agent_id": "cy", "revoked": False})
    result = chorus(env, "disable", "cy@example.org")
    assert result.exit_code == 0 and "agent cy <cy@example.org> disabled" in result.output
    assert agents.find_one({"_id": "cy"})["disabled"] is True
    assert sessions.find_one({"_id": "digest"})["revoked"] is True
    result = chorus(env, "enable", "CY@example.org")
    assert result.exit_code == 0 and "enabled" in result.output
    assert agents.find_one({"_id": "cy"})["disabled"] is False
    result = chorus(env, "disable", "ghost@example.org")
    assert result.exit_code == 1
    assert result.output.strip() == "Error: no agent has the email ghost@example.org"
