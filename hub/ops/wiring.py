"""Operations wiring: ``GET /metrics``, request metrics and log context, graceful drain.

Where ``/metrics`` lives (``metrics`` config section):

- ``metrics.port`` set: a separate listener on ``metrics.host:metrics.port`` (keep it on a
  private interface); the public port answers 404 for ``/metrics``.
- otherwise: on the main port, where it needs ``Authorization: Bearer <metrics.token>``
  and without a token answers 401 ``metrics_protected``, unless ``metrics.public`` opens
  it (``chorus doctor --production`` fails that). The token applies on either listener.

On shutdown (SIGTERM) ``drain`` runs before aiohttp waits for handlers: adapters stop
taking input and ask their clients to reconnect (web chat closes with 1012 after every
frame it owes was written), the outbox finishes in-flight sends, event listeners finish.
All of it within ``http.shutdown_grace_seconds``. The metrics listener closes last.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from aiohttp import web

from hub.channels.port import Capability, Drains, channel_status
from hub.config.model import MetricsConfig
from hub.http.json_api import Handler
from hub.ops.job_metrics import install_job_metrics
from hub.ops.metrics_http import metrics_listener, scrape_handler
from hub.runtime.logs import install_log_context, log_context, new_trace_id
from hub.runtime.metrics import HubMetrics, rejection_cause
from hub.state import ADAPTERS, CHANNELS, CONFIG, HUB, MONGO

log = logging.getLogger(__name__)

REQUEST_ID_HEADER = "X-Request-Id"
API_PREFIX = "/api/"


@dataclass
class OpsState:
    """The app's metrics and, once started, where the separate metrics listener is bound."""

    metrics: HubMetrics
    route_channels: dict[str, str] = field(default_factory=dict)
    metrics_address: tuple[str, int] | None = None


OPS = web.AppKey("ops", OpsState)
# Set on the separate metrics listener's app: there, no token is needed (a private address).


def setup(app: web.Application) -> None:
    """Add ``/metrics`` and the shutdown drain; ``request_middleware`` is in the app's chain."""
    install_log_context()
    metrics = app[HUB].metrics
    config: MetricsConfig = app[CONFIG].metrics
    state = OpsState(metrics)
    for adapter in app[ADAPTERS].values():
        for route in adapter.routes():
            path = getattr(route, "path", None)
            if isinstance(path, str):
                state.route_channels[path] = adapter.channel
    app[OPS] = state
    hub = app[HUB]
    # Slow-moving job figures first: the outbox's pending count is read last, right before
    # the exposition, so it agrees with the sent counter in the same scrape.
    install_job_metrics(metrics, app[MONGO], app[CONFIG].archive)
    metrics.outbox_inflight.set_function(lambda: hub.outbox.inflight_count)
    metrics.fanout_tasks.set_function(lambda: hub.events.running)

    async def refresh_pending() -> None:
        metrics.outbox_pending.set(await hub.outbox.store.pending_count())

    metrics.add_refresher(refresh_pending)

    async def refresh_polls() -> None:
        for channel, status in channel_status(app[CHANNELS]).items():
            next_poll = status.get("next_poll_at") if isinstance(status, dict) else None
            if next_poll:
                at = datetime.fromisoformat(str(next_poll))
                metrics.channel_next_poll.labels(channel).set(at.timestamp())

    metrics.add_refresher(refresh_polls)
    if config.enabled and config.port is None:
        token = config.token.get_secret_value()
        scrape = scrape_handler(metrics.render, token, refuse_without_token=not config.public)
        app.router.add_get("/metrics", scrape)
    if config.enabled and config.port is not None:
        app.cleanup_ctx.append(_metrics_listener)
    app.on_shutdown.append(drain)


def _route_of(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


def _channel_of(request: web.Request, route: str) -> str | None:
    if request.path.startswith(API_PREFIX):
        return "api"
    return request.app[OPS].route_channels.get(route)


@web.middleware
async def request_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Opens the log context for the request and counts and times it (outermost)."""
    state = request.app.get(OPS)
    trace_id = request.headers.get(REQUEST_ID_HEADER, "")[:64] or new_trace_id()
    started = time.perf_counter()
    status = 500
    with log_context(trace_id=trace_id):
        try:
            response = await handler(request)
            status = response.status
            if not response.prepared:
                response.headers[REQUEST_ID_HEADER] = trace_id
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            if state is not None:
                _observe(state.metrics, request, status, time.perf_counter() - started)


def _observe(metrics: HubMetrics, request: web.Request, status: int, seconds: float) -> None:
    route = _route_of(request)
    metrics.http_requests.labels(route=route, method=request.method, status=str(status)).inc()
    # A WebSocket's handler lasts as long as the socket: its duration is no latency.
    if request.headers.get("Upgrade", "").lower() != "websocket":
        metrics.http_seconds.labels(route=route).observe(seconds)
    cause = rejection_cause(status)
    channel = _channel_of(request, route)
    if cause is not None and channel is not None:
        metrics.rejected(channel, cause)


async def _metrics_listener(app: web.Application) -> AsyncIterator[None]:
    """Serve ``/metrics`` on its own host and port for the app's lifetime."""
    config: MetricsConfig = app[CONFIG].metrics
    render, token = app[OPS].metrics.render, config.token.get_secret_value()
    async with metrics_listener(render, token, config.host, config.port or 0) as address:
        app[OPS].metrics_address = address
        yield


async def drain(app: web.Application) -> None:
    """Stop taking input and finish what is in flight, within the shutdown grace period."""
    grace = app[CONFIG].http.shutdown_grace_seconds
    loop = asyncio.get_running_loop()
    deadline = loop.time() + grace
    hub = app[HUB]
    started = time.perf_counter()
    for adapter in app[CHANNELS].able(Capability.DRAIN):
        try:
            drains = cast(Drains, adapter)
            await asyncio.wait_for(drains.drain(), timeout=max(deadline - loop.time(), 0.01))
        except TimeoutError:
            log.warning("adapter did not drain in time", extra={"channel": adapter.channel})
        except Exception:
            log.exception("adapter drain failed", extra={"channel": adapter.channel})
    await hub.outbox.stop(max(deadline - loop.time(), 0.01))
    await hub.events.drain(max(deadline - loop.time(), 0.01))
    log.info("drained", extra={"seconds": round(time.perf_counter() - started, 3)})
    for handler in logging.getLogger().handlers:
        with contextlib.suppress(Exception):
            handler.flush()


def metrics_of(app: web.Application) -> HubMetrics:
    """The app's metrics, for features that count things from request handlers."""
    return app[OPS].metrics
