"""The README's API tables give the body of every endpoint that takes one.

Each row's endpoints (``GET/POST /api/v1/kb``, ``DELETE …/{id}``) are looked up in the
application's own route table; for each one with a request body, every field of that
body (by its JSON name) must be named in the row, quoted (``"title"``), or the row must
point to where the shape is described (``same shape as``).
"""

from __future__ import annotations

import re
from pathlib import Path

from hub.api.routes import API_ROUTES

README = Path(__file__).resolve().parents[3] / "README.md"
ROW = re.compile(r"^\| `(?P<endpoints>[^|]+?)` \|[^|]*\|(?P<what>.*)\|\s*$")
PATH_PARAM = re.compile(r"\{[^}]*\}")


def readme_rows() -> list[tuple[list[tuple[str, str]], str]]:
    """(method, path) pairs and the description, for each API table row."""
    rows = []
    for line in README.read_text().splitlines():
        match = ROW.match(line.replace("\\|", "¦"))
        if match is None or not match["endpoints"].startswith(
            ("GET", "POST", "PUT", "PATCH", "DELETE")
        ):
            continue
        pairs: list[tuple[str, str]] = []
        last_path = ""
        for item in re.split(r"`,\s*`", match["endpoints"]):
            methods, _, path = item.partition(" ")
            path = path.split("?", 1)[0]
            if path.startswith("…"):  # relative to the previous item's path
                path = last_path + path.removeprefix("…")
            last_path = path
            pairs += [(method, path) for method in methods.split("/")]
        rows.append((pairs, match["what"]))
    return rows


def _shape(path: str) -> str:
    return PATH_PARAM.sub("{}", path)


async def test_every_table_endpoint_with_a_body_documents_its_fields(client) -> None:
    endpoints = {
        (method, _shape(path)): endpoint
        for (method, path), endpoint in client.app[API_ROUTES].endpoints.items()
    }
    rows = readme_rows()
    assert len(rows) >= 25
    undocumented = []
    for pairs, what in rows:
        for method, path in pairs:
            endpoint = endpoints.get((method, _shape(path)))
            assert endpoint is not None or not path.startswith("/api/"), (method, path)
            if endpoint is None or endpoint.body is None or "same shape as" in what:
                continue
            fields = [f.alias or name for name, f in endpoint.body.model_fields.items()]
            missing = [f for f in fields if f'"{f}"' not in what]
            if missing:
                undocumented.append(f"{method} {path}: {', '.join(missing)}")
    assert undocumented == []
