"""``chorus token`` issues every documented role, and the API honours what it issued."""

from __future__ import annotations

from click.testing import CliRunner

from hub.cli.main import main
from tests.helpers.hub import ensure_agent


async def test_cli_issues_a_viewer_token_that_reads_but_cannot_write(client, config) -> None:
    ensure_agent(config, "vera", role="viewer")  # tokens of unknown agents are refused
    env = {"CHORUS_AUTH__JWT_SECRET": config.auth.jwt_secret.get_secret_value()}
    result = CliRunner().invoke(main, ["token", "--sub", "vera", "--role", "viewer"], env=env)
    assert result.exit_code == 0, result.output
    viewer = {"Authorization": f"Bearer {result.output.strip()}"}
    assert (await client.get("/api/v1/conversations", headers=viewer)).status == 200
    resp = await client.post("/api/v1/canned_responses", json={"title": "x"}, headers=viewer)
    assert resp.status == 403
