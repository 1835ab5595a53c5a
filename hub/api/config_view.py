"""The admin's read-only view of the running config (``GET /api/v1/config``), secrets masked."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from hub.api.routes import ADMIN_ONLY, API_ROUTES
from hub.state import CONFIG

MASK = "********"
_SECRET_KEY = re.compile(r"secret|token|password|private_key|consumer_key", re.I)
_URI_CREDENTIALS = re.compile(r"(//)[^/@]+@")


def masked(value: Any, key: str = "") -> Any:
    """The config tree with every secret-looking value blanked and URI passwords removed."""
    if isinstance(value, dict):
        return {k: masked(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(v, key) for v in value]
    if isinstance(value, str) and value and _SECRET_KEY.search(key) and "file" not in key:
        return MASK
    if isinstance(value, str):
        return _URI_CREDENTIALS.sub(rf"\1{MASK}@", value)
    return value


async def get_config(request: web.Request) -> web.Response:
    return web.json_response(masked(request.app[CONFIG].model_dump(mode="json")))


def setup(app: web.Application) -> None:
    routes = app[API_ROUTES]
    routes.add("GET", "/config", get_config, roles=ADMIN_ONLY, summary="The config, secrets masked")
