"""The platforms' identity endpoints, as a local HTTP server, for ``chorus doctor``.

Telegram ``GET /bot<token>/getMe``, Slack ``POST /api/auth.test`` and X
``GET /2/users/me`` (OAuth 1.0a user context, verified by oauthlib's server side) answer with the real
payload shapes: success for the known credentials, the platform's refusal otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web

from tests.fakes.oauth1 import OAuth1Verifier

TELEGRAM_TOKEN = "123456789:AAH-fake-telegram-token-000000000000"
SLACK_TOKEN = "xoxb-1111-2222-fake"
TWITTER_KEYS = {
    "consumer_key": "consumer-key",
    "consumer_secret": "consumer-secret",
    "access_token": "1-access-token",
    "access_token_secret": "access-secret",
}


@dataclass
class CredentialApis:
    """Records what each endpoint saw."""

    calls: list[str] = field(default_factory=list)
    oauth1: OAuth1Verifier = field(default_factory=lambda: OAuth1Verifier(lambda: TWITTER_KEYS))

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/bot{token}/getMe", self.telegram_get_me)
        app.router.add_post("/api/auth.test", self.slack_auth_test)
        app.router.add_get("/2/users/me", self.twitter_users_me)
        return app

    async def telegram_get_me(self, request: web.Request) -> web.Response:
        self.calls.append("telegram.getMe")
        if request.match_info["token"] != TELEGRAM_TOKEN:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        return web.json_response(
            {
                "ok": True,
                "result": {
                    "id": 123456789,
                    "is_bot": True,
                    "first_name": "Chorus",
                    "username": "chorus_bot",
                    "can_join_groups": True,
                    "can_read_all_group_messages": False,
                    "supports_inline_queries": False,
                },
            }
        )

    async def slack_auth_test(self, request: web.Request) -> web.Response:
        self.calls.append("slack.auth.test")
        if request.headers.get("Authorization") != f"Bearer {SLACK_TOKEN}":
            return web.json_response({"ok": False, "error": "invalid_auth"})
        return web.json_response(
            {
                "ok": True,
                "url": "https://acme.slack.com/",
                "team": "Acme",
                "user": "chorus",
                "team_id": "T0001",
                "user_id": "U0001",
                "bot_id": "B0001",
                "is_enterprise_install": False,
            }
        )

    async def twitter_users_me(self, request: web.Request) -> web.Response:
        self.calls.append("twitter.users.me")
        if not self.oauth1.verify(request):
            return web.json_response(
                {
                    "title": "Unauthorized",
                    "type": "about:blank",
                    "status": 401,
                    "detail": "Unauthorized",
                },
                status=401,
            )
        return web.json_response({"data": {"id": "1", "name": "Chorus", "username": "chorus"}})
