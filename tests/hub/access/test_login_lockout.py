"""A stranger cannot lock an agent out: the hard limit is per account and address, and
many addresses at one account only slow its attempts down."""

from __future__ import annotations

import time

import pytest

from hub.cli.agents import add_agent
from hub.config.model import ChorusConfig

PASSWORD = "correct horse battery"


@pytest.fixture
def config(config: ChorusConfig) -> ChorusConfig:
    config.sessions.trust_forwarded_for = True
    config.sessions.login_slow_seconds = 0.3
    # Budgets refill so slowly that a loaded machine's slow logins cannot earn attempts back.
    config.sessions.login_refill_per_second = 1e-6
    return config


@pytest.fixture
async def ada(client, config) -> None:
    await add_agent(config, "ada@example.org", "Ada", "agent", PASSWORD, None)


async def _login(client, address: str, password: str) -> int:
    resp = await client.post(
        "/api/v1/auth/login",
        json={"email": "ada@example.org", "password": password},
        headers={"X-Forwarded-For": address},
    )
    return resp.status


async def test_a_stranger_locks_out_only_their_own_address(client, ada) -> None:
    statuses = [await _login(client, "203.0.113.9", "guess-guess") for _ in range(6)]
    assert statuses == [401] * 5 + [429]
    assert await _login(client, "203.0.113.9", PASSWORD) == 429
    assert await _login(client, "198.51.100.7", PASSWORD) == 200


async def test_many_addresses_slow_an_account_but_never_lock_it(client, ada) -> None:
    # Ten people's budgets (10 x 5 attempts) from ten addresses: none is refused or slowed.
    for n in range(10):
        for _ in range(5):
            assert await _login(client, f"203.0.113.{n}", "guess-guess") == 401
    started = time.perf_counter()
    assert await _login(client, "203.0.113.99", "guess-guess") == 401
    assert time.perf_counter() - started >= 0.3  # beyond the account's ceiling: slowed
    started = time.perf_counter()
    assert await _login(client, "198.51.100.7", PASSWORD) == 200  # the owner still gets in
    assert time.perf_counter() - started >= 0.3
