"""Serving Prometheus text: the ``/metrics`` handler and a metrics-only listener.

The hub uses both (``hub.ops.wiring``); ``chorus replicate``, which runs in its own process,
uses the listener to export its replication metrics the same way, behind the same token.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

from hub.errors import NotFound, Unauthorized
from hub.http.json_api import Handler, error_middleware

log = logging.getLogger(__name__)

Render = Callable[[], Awaitable[bytes]]
CONTENT_TYPE = "text/plain; version=0.0.4"


def scrape_handler(render: Render, token: str, *, refuse_without_token: bool = False) -> Handler:
    """``GET /metrics``: ``render()``'s exposition; with ``token`` set, only for its bearer.
    ``refuse_without_token``: with no token configured, refuse everyone (the public port)."""

    async def metrics_endpoint(request: web.Request) -> web.Response:
        if refuse_without_token and not token:
            raise Unauthorized(
                "metrics on the main port need metrics.token (or metrics.port, metrics.public)",
                code="metrics_protected",
            )
        _authorize(request, token)
        return web.Response(body=await render(), headers={"Content-Type": CONTENT_TYPE})

    return metrics_endpoint


def _authorize(request: web.Request, expected: str) -> None:
    if not expected:
        return
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip(), expected):
        raise Unauthorized("metrics need Authorization: Bearer <metrics.token>")


@contextlib.asynccontextmanager
async def metrics_listener(
    render: Render, token: str, host: str, port: int
) -> AsyncIterator[tuple[str, int]]:
    """Serve only ``/metrics`` on ``host:port`` (0: any free port); yields the bound address."""
    side = web.Application(middlewares=[error_middleware])
    side.router.add_get("/metrics", scrape_handler(render, token))

    async def not_here(request: web.Request) -> web.Response:
        raise NotFound("this listener serves /metrics only")

    side.router.add_route("*", "/{tail:.*}", not_here)
    runner = web.AppRunner(side, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        bound_host, bound_port = runner.addresses[0][:2]
        log.info("metrics listening", extra={"host": bound_host, "port": bound_port})
        yield bound_host, bound_port
    finally:
        await runner.cleanup()
