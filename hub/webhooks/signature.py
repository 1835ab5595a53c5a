"""Signatures on the hub's outbound webhooks: HMAC-SHA256 over ``timestamp.body``.

The scheme Slack and Stripe use: the receiver recomputes the HMAC with its secret over the
timestamp header, a dot and the raw body, compares in constant time, and refuses a
timestamp older than five minutes so a captured delivery cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import time

TIMESTAMP_HEADER = "X-Chorus-Timestamp"
SIGNATURE_HEADER = "X-Chorus-Signature"
TOLERANCE_SECONDS = 300
VERSION = "v1"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value for ``body`` sent at ``timestamp`` (Unix seconds)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"{VERSION}={digest.hexdigest()}"


def signed_headers(secret: str, body: bytes, now: float | None = None) -> dict[str, str]:
    timestamp = int(time.time() if now is None else now)
    return {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: sign(secret, timestamp, body)}


def verify(
    secret: str, timestamp: str, signature: str, body: bytes, now: float | None = None
) -> bool:
    """What a receiver checks: the signature matches and the timestamp is recent."""
    if not timestamp.isdigit():
        return False
    if abs((time.time() if now is None else now) - int(timestamp)) > TOLERANCE_SECONDS:
        return False
    return hmac.compare_digest(signature.encode(), sign(secret, int(timestamp), body).encode())
