"""Serves the landing page (``/``), the agents' web inbox (``/inbox/``), the customer
widget (``/widget.js``) and the admin's read-only config view (``GET /api/v1/config``).

Everything the browser needs ships in ``hub/web/``: plain HTML, CSS and ES modules, no
build step and no fetch from another origin at run time.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from aiohttp import web

from hub.api.routes import ADMIN_ONLY, ApiRoutes
from hub.state import CONFIG

WEB_DIR = Path(__file__).parent / "web"
MASK = "********"
_SECRET_KEY = re.compile(r"secret|token|password|private_key|consumer_key", re.I)
_URI_CREDENTIALS = re.compile(r"(//)[^/@]+@")
# Pages refuse framing and scripts from anywhere but the hub itself.
_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; connect-src 'self' ws: wss:; "
    "img-src 'self' data:; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}


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


def _page(name: str) -> Any:
    async def serve(request: web.Request) -> web.StreamResponse:
        return web.FileResponse(WEB_DIR / name, headers=_PAGE_HEADERS)

    return serve


async def _to_inbox(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/inbox/")


def install(app: web.Application, api: ApiRoutes) -> None:
    app.router.add_get("/", _page("welcome.html"))  # a person opening the hub finds their way
    app.router.add_get("/inbox", _to_inbox)
    app.router.add_get("/inbox/", _page("index.html"))
    app.router.add_static("/inbox/assets/", WEB_DIR / "assets")
    app.router.add_get("/widget.js", _page("widget.js"))
    app.router.add_get("/widget.css", _page("widget.css"))
    app.router.add_get("/widget/demo", _page("widget-demo.html"))
    api.add("GET", "/config", get_config, roles=ADMIN_ONLY, summary="The config, secrets masked")
