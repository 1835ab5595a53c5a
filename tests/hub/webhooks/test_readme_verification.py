"""The README's signature checks (Python and shell) accept a real webhook delivery and
refuse a tampered one."""

from __future__ import annotations

import asyncio
import re
import shlex
from pathlib import Path
from typing import Any

from hub.webhooks.signature import SIGNATURE_HEADER, TIMESTAMP_HEADER
from tests.helpers.hub import wait_for
from tests.helpers.webhooks import customer_writes, register

README = (Path(__file__).resolve().parents[3] / "README.md").read_text()


def _block(language: str, marker: str) -> str:
    blocks = re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)
    return next(b for b in blocks if marker in b)


async def test_readme_snippets_verify_a_delivery(
    make_client, hook_config, receiver, tmp_path
) -> None:
    client = await make_client(hook_config)
    endpoint = await register(client, receiver.url, ["message.created"])
    await customer_writes(client, "签名 please")

    async def arrived() -> Any:
        return receiver.requests

    [(headers, body, _)] = await wait_for(arrived)
    timestamp, signature = headers[TIMESTAMP_HEADER], headers[SIGNATURE_HEADER]

    scope: dict[str, Any] = {}
    exec(_block("python", "def verify("), scope)  # noqa: S102 - the README's own code
    verify = scope["verify"]
    assert verify(endpoint["secret"], timestamp, signature, body)
    assert not verify(endpoint["secret"], timestamp, signature, body + b" ")
    assert not verify("another secret", timestamp, signature, body)

    line = next(x for x in _block("sh", "openssl dgst").splitlines() if x.startswith("expected="))
    (tmp_path / "body.json").write_bytes(body)
    script = (
        f"secret={shlex.quote(endpoint['secret'])}; timestamp={timestamp}; body=body.json; "
        f"{line}; "
        'printf %s "$expected"'
    )
    proc = await asyncio.create_subprocess_exec(
        "bash", "-c", script, cwd=tmp_path, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await proc.communicate()
    assert proc.returncode == 0
    assert out.decode() == signature
