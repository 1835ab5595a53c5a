"""The WeChat API client: one shared access token and the customer-service send.

Every hub instance uses the same access token: it is kept in the channel state (a
checkpoint) and in memory, fetched with ``/cgi-bin/stable_token``, which hands every caller
the same token while it is valid, so instances refreshing at once never invalidate each
other's. It is refreshed a few minutes before it expires and when WeChat calls it invalid
(40001, 40014, 42001); it is never fetched per send and never logged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import aiohttp

from hub.channels.port import ChannelState
from hub.domain import DeliveryResult

log = logging.getLogger(__name__)

TOKEN_CHECKPOINT = "wechat:access_token"  # noqa: S105 - a checkpoint name
REFRESH_MARGIN = timedelta(minutes=5)
TOKEN_INVALID = {40001, 40014, 42001}
RETRYABLE = {-1, 45009, 45011}
# What a failed send means for the conversation, in words an agent can act on.
PERMANENT = {
    45015: "outside WeChat's 48-hour reply window: the customer must write again first",
    45047: "WeChat's limit of replies in the 48-hour window is reached",
    40003: "WeChat does not know this customer's openid",
    40004: "WeChat does not take this kind of media",
    40005: "WeChat refused the file's format",
    40007: "WeChat no longer has the uploaded file (temporary media lasts three days)",
    40009: "the image is larger than WeChat accepts",
    40010: "the voice message is larger than WeChat accepts",
    45007: "the voice message is longer than WeChat's 60 seconds",
}
UNREACHABLE = {43004: "the customer no longer follows the account"}
SEND_PATH = "/cgi-bin/message/custom/send"
# The customer-service message kinds that carry an uploaded file. An Official Account has
# no file message (that is WeCom's API): other files cannot be sent as files.
MediaKind = Literal["image", "voice"]


class WeChatError(Exception):
    """A WeChat API answer with a non-zero ``errcode``."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"{errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class WeChatApi:
    """Calls to ``api.weixin.qq.com`` (or the configured base) for one account."""

    def __init__(
        self,
        base_url: str,
        app_id: str,
        app_secret: str,
        state: ChannelState,
        timeout_seconds: float,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.app_id = app_id
        self._secret = app_secret
        self.state = state
        self.timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._session: aiohttp.ClientSession | None = None
        self._token: tuple[str, datetime] | None = None
        self._refresh = asyncio.Lock()

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def _post(
        self, path: str, body: dict[str, Any], token: str | None = None
    ) -> dict[str, Any]:
        params = {"access_token": token} if token else None
        async with self._http().post(f"{self.base_url}{path}", json=body, params=params) as resp:
            return await self._answer(resp)

    @staticmethod
    async def _answer(resp: aiohttp.ClientResponse) -> dict[str, Any]:
        if resp.status >= 500:
            raise aiohttp.ClientResponseError(resp.request_info, resp.history, status=resp.status)
        if resp.status >= 400:  # a refused request (too large, say): not worth a retry
            raise WeChatError(resp.status, f"HTTP {resp.status}")
        # WeChat answers JSON with text/plain at times: read the body, not the header.
        try:
            answer = await resp.json(content_type=None)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise WeChatError(-1, "the answer is not a JSON object")
        if answer.get("errcode", 0) != 0:
            raise WeChatError(int(answer["errcode"]), str(answer.get("errmsg", "")))
        return answer

    async def fetch_token(self) -> tuple[str, datetime]:
        """A token from ``stable_token`` (the same one every caller gets while it lasts)."""
        body = {"grant_type": "client_credential", "appid": self.app_id, "secret": self._secret}
        answer = await self._post("/cgi-bin/stable_token", body | {"force_refresh": False})
        token = answer.get("access_token")
        if not isinstance(token, str) or not token:
            raise WeChatError(-1, "stable_token gave no access_token")
        expires_in = int(answer.get("expires_in", 7200))
        return token, datetime.now(UTC) + timedelta(seconds=expires_in)

    async def access_token(self, *, stale: str | None = None) -> str:
        """The shared token; ``stale`` names one WeChat refused, which is never handed out."""
        async with self._refresh:
            now = datetime.now(UTC)
            if self._fresh(self._token, now, stale):
                assert self._token is not None
                return self._token[0]
            stored = await self.state.load_checkpoint(TOKEN_CHECKPOINT)
            if isinstance(stored, dict):
                candidate = (str(stored.get("token")), datetime.fromisoformat(stored["expires"]))
                if self._fresh(candidate, now, stale):
                    self._token = candidate
                    return candidate[0]
            token, expires = await self.fetch_token()
            self._token = (token, expires)
            await self.state.save_checkpoint(
                TOKEN_CHECKPOINT, {"token": token, "expires": expires.isoformat()}
            )
            log.info("wechat access token refreshed", extra={"expires": expires.isoformat()})
            return token

    @staticmethod
    def _fresh(token: tuple[str, datetime] | None, now: datetime, stale: str | None) -> bool:
        return token is not None and token[0] != stale and token[1] - REFRESH_MARGIN > now

    async def get_media(self, media_id: str, max_bytes: int) -> bytes:
        """A customer's image or voice, by its ``MediaId``, from ``/cgi-bin/media/get``
        (kept three days by WeChat). A JSON answer is an error; a refused token is
        refreshed and tried once."""
        token = await self.access_token()
        try:
            return await self._get_media(media_id, token, max_bytes)
        except WeChatError as exc:
            if exc.errcode not in TOKEN_INVALID:
                raise
            return await self._get_media(media_id, await self.access_token(stale=token), max_bytes)

    async def _get_media(self, media_id: str, token: str, max_bytes: int) -> bytes:
        params = {"access_token": token, "media_id": media_id}
        url = f"{self.base_url}/cgi-bin/media/get"
        async with self._http().get(url, params=params) as resp:
            if resp.status >= 400:
                raise aiohttp.ClientResponseError(
                    resp.request_info, resp.history, status=resp.status
                )
            if resp.content_type in ("application/json", "text/plain"):
                answer = await resp.json(content_type=None)
                if not isinstance(answer, dict):
                    raise WeChatError(-1, "the answer is not a JSON object")
                raise WeChatError(int(answer.get("errcode", -1)), str(answer.get("errmsg", "")))
            data = bytearray()
            async for chunk in resp.content.iter_chunked(65_536):
                data.extend(chunk)
                if len(data) > max_bytes:
                    raise WeChatError(-1, f"the media is larger than {max_bytes} bytes")
            return bytes(data)

    async def send_text(self, openid: str, text: str) -> None:
        """One customer-service text message; a refused token is refreshed and tried once."""
        body = {"touser": openid, "msgtype": "text", "text": {"content": text}}
        await self._with_token(lambda token: self._post(SEND_PATH, body, token))

    async def send_media(self, openid: str, kind: MediaKind, media_id: str) -> None:
        """A customer-service image or voice message naming an uploaded ``media_id``."""
        body = {"touser": openid, "msgtype": kind, kind: {"media_id": media_id}}
        await self._with_token(lambda token: self._post(SEND_PATH, body, token))

    async def upload_media(
        self, kind: MediaKind, data: bytes, filename: str, content_type: str
    ) -> str:
        """Upload a file as temporary media (``/cgi-bin/media/upload``, the multipart field
        ``media``; WeChat keeps it three days); its ``media_id``."""

        async def upload(token: str) -> dict[str, Any]:
            form = aiohttp.FormData()
            form.add_field("media", data, filename=filename, content_type=content_type)
            params = {"access_token": token, "type": kind}
            url = f"{self.base_url}/cgi-bin/media/upload"
            async with self._http().post(url, data=form, params=params) as resp:
                return await self._answer(resp)

        answer = await self._with_token(upload)
        media_id = answer.get("media_id")
        if not isinstance(media_id, str) or not media_id:
            raise WeChatError(-1, "media/upload gave no media_id")
        return media_id

    async def _with_token(self, call: Callable[[str], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
        """``call`` with the shared token; a token WeChat refuses is refreshed, tried once."""
        token = await self.access_token()
        try:
            return await call(token)
        except WeChatError as exc:
            if exc.errcode not in TOKEN_INVALID:
                raise
            return await call(await self.access_token(stale=token))


def delivery_failure(exc: Exception) -> DeliveryResult:
    """What an error from a send means: retry later, give up with a reason, unreachable."""
    if isinstance(exc, WeChatError):
        if exc.errcode in PERMANENT:
            return DeliveryResult.failed(f"{PERMANENT[exc.errcode]} ({exc.errcode})")
        if exc.errcode in UNREACHABLE:
            reason = f"{UNREACHABLE[exc.errcode]} ({exc.errcode})"
            return DeliveryResult.failed(reason, unreachable=True)
        if exc.errcode in RETRYABLE or exc.errcode in TOKEN_INVALID:
            return DeliveryResult.failed(f"wechat busy ({exc.errcode})", retryable=True)
        return DeliveryResult.failed(f"wechat refused the message ({exc.errcode})")
    # Timeouts, refused connections and 5xx: WeChat may be back in a moment.
    return DeliveryResult.failed(f"wechat unreachable ({type(exc).__name__})", retryable=True)
