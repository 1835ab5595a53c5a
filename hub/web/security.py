"""Browser-facing hygiene: security headers, CORS for configured origins, WebSocket origins.

The hub serves its own pages and sockets and nothing from elsewhere, so the content
security policy allows only its own origin. CORS answers only origins listed in
``http.cors_origins``; others get no CORS headers, so browsers refuse the response.
WebSocket upgrades (``/chat``, ``/inbox/ws``) are refused with 403 when they carry an
``Origin`` that is neither this hub's own nor in ``http.ws_allowed_origins``; clients
that send no ``Origin`` (CLIs, servers) are not browsers and pass.
"""

from __future__ import annotations

from aiohttp import hdrs, web
from aiohttp.typedefs import Middleware

from hub.config.model import HttpConfig
from hub.http.json_api import Handler, error_response

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'self'; connect-src 'self'; img-src 'self' data:; "
        "style-src 'self'; script-src 'self'; object-src 'none'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
}
CORS_METHODS = "GET, POST, PUT, PATCH, DELETE"
CORS_HEADERS = "Authorization, Content-Type, X-Request-Id"


def _own_origin(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


def security_middleware(config: HttpConfig) -> Middleware:
    """The outermost middleware but metrics: it sees rendered errors and adds headers."""
    cors = frozenset(config.cors_origins)
    ws_origins = frozenset(config.ws_allowed_origins)

    @web.middleware
    async def security(request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = request.headers.get(hdrs.ORIGIN)
        upgrade = request.headers.get(hdrs.UPGRADE, "").lower() == "websocket"
        response: web.StreamResponse
        foreign = origin is not None and origin != _own_origin(request)
        if upgrade and foreign and origin not in ws_origins:
            response = error_response(
                403, "bad_origin", f"origin {origin} may not open this socket"
            )
        elif request.method == "OPTIONS" and origin in cors:
            response = web.Response(status=204)
            response.headers["Access-Control-Allow-Methods"] = CORS_METHODS
            response.headers["Access-Control-Allow-Headers"] = CORS_HEADERS
            response.headers["Access-Control-Max-Age"] = "600"
        else:
            response = await handler(request)
        if not response.prepared:
            response.headers.update(SECURITY_HEADERS)
            if origin is not None and origin in cors:
                response.headers["Access-Control-Allow-Origin"] = origin
                response.headers["Vary"] = "Origin"
        return response

    return security
