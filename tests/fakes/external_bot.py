"""A fake external bot (a stand-in for Rasa, Botpress or an LLM service) over real HTTP.

It records every payload it is sent and answers in one of three ways: with the configured
JSON reply, with an error status, or not at all until the test ends (a timeout).
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from aiohttp import web

Mode = Literal["answer", "error", "hang", "garbage"]


class FakeExternalBot:
    def __init__(self) -> None:
        self.mode: Mode = "answer"
        self.reply: dict[str, Any] = {"messages": [], "handoff": False}
        self.received: list[dict[str, Any]] = []
        self.release = asyncio.Event()
        self.app = web.Application()
        self.app.router.add_post("/webhook", self.handle)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.received.append(await request.json())
        if self.mode == "error":
            return web.json_response({"detail": "model crashed"}, status=500)
        if self.mode == "hang":
            await self.release.wait()
        if self.mode == "garbage":
            return web.Response(text="<html>oops</html>", content_type="text/html")
        return web.json_response(self.reply)
