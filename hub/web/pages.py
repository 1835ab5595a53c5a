"""Serves the landing page (``/``), the agents' web inbox (``/inbox/``) and the customer
widget (``/widget.js``).

Everything the browser needs ships in ``hub/web/``: plain HTML, CSS and ES modules, no
build step and no fetch from another origin at run time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web

WEB_DIR = Path(__file__).parent
# Pages refuse framing and scripts from anywhere but the hub itself.
_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; connect-src 'self' ws: wss:; "
    "img-src 'self' data:; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}


def _page(name: str) -> Any:
    async def serve(request: web.Request) -> web.StreamResponse:
        return web.FileResponse(WEB_DIR / name, headers=_PAGE_HEADERS)

    return serve


async def _to_inbox(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/inbox/")


def setup(app: web.Application) -> None:
    app.router.add_get("/", _page("welcome.html"))  # a person opening the hub finds their way
    app.router.add_get("/inbox", _to_inbox)
    app.router.add_get("/inbox/", _page("index.html"))
    app.router.add_static("/inbox/assets/", WEB_DIR / "assets")
    app.router.add_get("/widget.js", _page("widget.js"))
    app.router.add_get("/widget.css", _page("widget.css"))
    app.router.add_get("/widget/demo", _page("widget-demo.html"))
