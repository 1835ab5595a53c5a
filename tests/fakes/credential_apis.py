"""The platforms' identity endpoints, as a local HTTP server, for ``chorus doctor``.

Telegram ``GET /bot<token>/getMe``, Slack ``POST /api/auth.test`` and X
``GET /2/users/me`` (OAuth 1.0a user context, signature verified) answer with the real
payload shapes: success for the known credentials, the platform's refusal otherwise.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass, field
from urllib.parse import quote, unquote

from aiohttp import web

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
        if not _valid_oauth1(request):
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


def _valid_oauth1(request: web.Request) -> bool:
    header = request.headers.get("Authorization", "")
    if not header.startswith("OAuth "):
        return False
    params = {}
    for part in header[len("OAuth ") :].split(", "):
        key, _, value = part.partition("=")
        params[unquote(key)] = unquote(value.strip('"'))
    signature = params.pop("oauth_signature", "")
    if params.get("oauth_token") != TWITTER_KEYS["access_token"]:
        return False

    def enc(value: str) -> str:
        return quote(value, safe="~")

    url = str(request.url.with_query(None))
    pairs = "&".join(f"{enc(k)}={enc(v)}" for k, v in sorted(params.items()))
    base = "&".join([request.method, enc(url), enc(pairs)])
    key = f"{enc(TWITTER_KEYS['consumer_secret'])}&{enc(TWITTER_KEYS['access_token_secret'])}"
    expected = base64.b64encode(hmac.new(key.encode(), base.encode(), hashlib.sha1).digest())
    return hmac.compare_digest(expected.decode(), signature)
