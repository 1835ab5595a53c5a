"""A local stand-in for an external comment classifier, spoken to over real HTTP."""

from __future__ import annotations

from typing import Any

from aiohttp import web

SEEN = web.AppKey("seen", list)


def classifier_app() -> web.Application:
    """Scores 0.99 for text with "toxic", answers 500 for "crash", else 0.1."""

    async def classify(request: web.Request) -> web.Response:
        body: dict[str, Any] = await request.json()
        request.app[SEEN].append({"body": body, "auth": request.headers.get("Authorization")})
        text = body["text"]
        if "crash" in text:
            return web.json_response({"error": "boom"}, status=500)
        score = 0.99 if "toxic" in text else 0.1
        return web.json_response({"score": score, "labels": ["toxicity"] if score > 0.5 else []})

    app = web.Application()
    app[SEEN] = []
    app.router.add_post("/classify", classify)
    return app
