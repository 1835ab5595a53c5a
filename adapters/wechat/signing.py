"""WeChat's request signatures: SHA-1 over the sorted parts, compared in constant time.

The server check signs (token, timestamp, nonce); safe mode's ``msg_signature`` adds the
encrypted body. Both are the same rule, so one function serves.
"""

from __future__ import annotations

import hashlib
import hmac


def signature(*parts: str) -> str:
    """The hex SHA-1 of the parts sorted as strings and joined, as WeChat computes it."""
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()  # noqa: S324 - WeChat's


def signature_matches(given: str | None, *parts: str) -> bool:
    if not given or not all(parts):
        return False
    return hmac.compare_digest(given.lower().encode(), signature(*parts).encode())
