"""OAuth 1.0a checking for the fake X servers, by oauthlib's server side.

``oauthlib.oauth1.ResourceEndpoint`` does what X does with a user-context request: it
normalizes the URL and parameters, recomputes the signature, and checks the timestamp
window and that the nonce is new. The fakes therefore share no signing code with the
client they test: a client signing wrongly (a URL not normalized, a parameter left out)
is refused as X would refuse it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web
from oauthlib.oauth1 import RequestValidator, ResourceEndpoint


class _KnownKeys(RequestValidator):  # type: ignore[misc]  # oauthlib is untyped
    """One consumer and one access token; every nonce is accepted once."""

    enforce_ssl = False  # the fakes listen on plain HTTP on loopback

    def __init__(self, keys: Callable[[], dict[str, str]]) -> None:
        super().__init__()
        self.current = keys
        self.seen: set[tuple[str, str, str]] = set()

    # Key formats are X's business, not the protocol's: accept any shape, then compare.
    def check_client_key(self, client_key: str) -> bool:
        return True

    def check_access_token(self, token: str) -> bool:
        return True

    def check_nonce(self, nonce: str) -> bool:
        return True

    @property
    def dummy_client(self) -> str:
        return "dummy-client"

    @property
    def dummy_access_token(self) -> str:
        return "dummy-token"

    @property
    def keys(self) -> dict[str, str]:
        return self.current()

    def validate_client_key(self, client_key: str, request: Any) -> bool:
        return client_key == self.keys["consumer_key"]

    def validate_access_token(self, client_key: str, token: str, request: Any) -> bool:
        return token == self.keys["access_token"]

    def validate_timestamp_and_nonce(
        self, client_key: str, timestamp: str, nonce: str, request: Any, **tokens: Any
    ) -> bool:
        key = (client_key, timestamp, nonce)
        if key in self.seen:
            return False
        self.seen.add(key)
        return True

    def validate_realms(self, *args: Any, **kwargs: Any) -> bool:
        return True

    def get_client_secret(self, client_key: str, request: Any) -> str:
        return self.keys["consumer_secret"] if client_key == self.keys["consumer_key"] else "x"

    def get_access_token_secret(self, client_key: str, token: str, request: Any) -> str:
        return self.keys["access_token_secret"] if token == self.keys["access_token"] else "x"


class OAuth1Verifier:
    """Verifies the ``Authorization: OAuth …`` header of a request to a fake."""

    def __init__(self, keys: Callable[[], dict[str, str]]) -> None:
        """``keys`` gives the consumer and access keys (and secrets) in force."""
        self.endpoint = ResourceEndpoint(_KnownKeys(keys))

    def verify(self, request: web.Request) -> bool:
        # A JSON body is not part of the signature (only form bodies are): leave it out.
        headers = {"Authorization": request.headers.get("Authorization", "")}
        valid, _ = self.endpoint.validate_protected_resource_request(
            str(request.url), request.method, None, headers
        )
        return bool(valid)
