"""Safe mode (安全模式): AES-256-CBC message bodies keyed by the EncodingAESKey.

The key is the 43-character EncodingAESKey read as base64 (with its missing ``=``); the IV
is the key's first 16 bytes; padding is PKCS#7 to 32-byte blocks (not AES's 16). The clear
text is 16 random bytes, the message length as 4 big-endian bytes, the message, and the
app id the message is for, which is checked so a message for another account is refused.
"""

from __future__ import annotations

import base64
import binascii
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 32


class CryptoError(ValueError):
    """The body cannot be decrypted, or it is for another app id."""


def aes_key(encoding_aes_key: str) -> bytes:
    """The 32-byte key from an EncodingAESKey, or ValueError for a malformed one."""
    if len(encoding_aes_key) != 43:
        raise ValueError("an EncodingAESKey has 43 characters")
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except binascii.Error as exc:
        raise ValueError("an EncodingAESKey is base64") from exc
    if len(key) != 32:
        raise ValueError("an EncodingAESKey decodes to 32 bytes")
    return key


class SafeModeCipher:
    """Encrypts and decrypts message bodies for one account."""

    def __init__(self, encoding_aes_key: str, app_id: str) -> None:
        self.key = aes_key(encoding_aes_key)
        self.app_id = app_id.encode()

    def _cipher(self) -> Cipher[modes.CBC]:
        return Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16]))

    def decrypt(self, encrypted: str) -> bytes:
        """The XML inside a base64 ``Encrypt`` field."""
        try:
            data = base64.b64decode(encrypted, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise CryptoError("Encrypt is not base64") from exc
        if not data or len(data) % 16:
            raise CryptoError("Encrypt is not a whole number of AES blocks")
        decryptor = self._cipher().decryptor()
        clear = decryptor.update(data) + decryptor.finalize()
        pad = clear[-1]
        if not 1 <= pad <= BLOCK or clear[-pad:] != bytes([pad]) * pad:
            raise CryptoError("bad padding")
        clear = clear[:-pad]
        if len(clear) < 20:
            raise CryptoError("the clear text is too short")
        (length,) = struct.unpack(">I", clear[16:20])
        message, app_id = clear[20 : 20 + length], clear[20 + length :]
        if len(message) != length or not self._same_app(app_id):
            raise CryptoError("the message is for another app id")
        return message

    def _same_app(self, app_id: bytes) -> bool:
        return bool(self.app_id) and app_id == self.app_id

    def encrypt(self, message: bytes) -> str:
        """A base64 ``Encrypt`` field for ``message`` (as WeChat's servers produce it)."""
        clear = os.urandom(16) + struct.pack(">I", len(message)) + message + self.app_id
        pad = BLOCK - len(clear) % BLOCK
        clear += bytes([pad]) * pad
        encryptor = self._cipher().encryptor()
        return base64.b64encode(encryptor.update(clear) + encryptor.finalize()).decode()
