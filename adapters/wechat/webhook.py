"""The callback URL's checks: WeChat's signature, a recent timestamp, a bounded body.

A request is read only after its query signature matches the account's token; in safe mode
the encrypted body must also match ``msg_signature`` and decrypt for this app id. Nothing
that fails a check is stored, and nothing here signs or echoes bytes a caller chose except
the ``echostr`` of a correctly signed verification request, as WeChat's protocol requires.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from adapters.wechat.crypto import CryptoError, SafeModeCipher
from adapters.wechat.payload import MalformedBody, parse_xml
from adapters.wechat.signing import signature_matches
from hub.errors import BadRequest, Unauthorized

# WeChat retries for about 15 s; a body signed long before that is a replay.
MAX_SKEW_SECONDS = 300


def verify_server(query: Mapping[str, str], token: str) -> str:
    """The ``echostr`` to answer a correctly signed server verification with."""
    if not signature_matches(
        query.get("signature"), token, query.get("timestamp", ""), query.get("nonce", "")
    ):
        raise Unauthorized("the signature does not match", code="invalid_signature")
    return query.get("echostr", "")


def _recent(timestamp: str, now: float) -> bool:
    return timestamp.isdigit() and abs(now - int(timestamp)) <= MAX_SKEW_SECONDS


def verified_fields(
    query: Mapping[str, str],
    body: bytes,
    token: str,
    cipher: SafeModeCipher | None,
    now: float | None = None,
) -> dict[str, str]:
    """The message fields of a callback that passed every check, decrypted in safe mode."""
    timestamp, nonce = query.get("timestamp", ""), query.get("nonce", "")
    if not signature_matches(query.get("signature"), token, timestamp, nonce):
        raise Unauthorized("the signature does not match", code="invalid_signature")
    if not _recent(timestamp, time.time() if now is None else now):
        raise Unauthorized("the timestamp is not recent", code="stale_timestamp")
    try:
        fields = parse_xml(body)
    except MalformedBody as exc:
        raise BadRequest(str(exc), code="invalid_xml") from exc
    if cipher is None:
        return fields
    encrypted = fields.get("Encrypt", "")
    if not signature_matches(query.get("msg_signature"), token, timestamp, nonce, encrypted):
        raise Unauthorized("msg_signature does not match", code="invalid_signature")
    try:
        return parse_xml(cipher.decrypt(encrypted))
    except (CryptoError, MalformedBody) as exc:
        raise BadRequest(str(exc), code="invalid_encrypted_body") from exc
