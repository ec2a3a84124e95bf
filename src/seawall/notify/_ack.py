"""Signed acknowledge tokens: a link in a notification that acks its group.

A token is ``<payload>.<mac>``, both base64url without padding. The payload is
``<expires>.<group key>`` (Unix seconds); the MAC is HMAC-SHA256 over a
domain-separation prefix and the payload, so a token minted for another
purpose with the same key never verifies here. Verification compares MACs in
constant time (:func:`hmac.compare_digest`) before it reads anything else.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import time
from collections.abc import Callable

__all__ = ["AckSigner"]

_DOMAIN = b"seawall-ack-v1\x00"
#: a group key is route + label values; anything longer is not one of ours
_MAX_GROUP_KEY = 1024
_MAX_TOKEN = 4 * _MAX_GROUP_KEY
_MIN_KEY = 16


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class AckSigner:
    """Mints and checks acknowledge tokens for notification groups.

    ``key`` is a secret of at least 16 bytes (32 random bytes recommended);
    ``ttl`` how long a link stays valid. ``clock`` gives wall seconds for
    :meth:`token`; :meth:`verify` takes the time explicitly.
    """

    __slots__ = ("_clock", "_key", "_ttl")

    def __init__(
        self,
        key: bytes,
        *,
        ttl: float = 7 * 86400.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if len(key) < _MIN_KEY:
            msg = f"the acknowledge key must be at least {_MIN_KEY} bytes, not {len(key)}"
            raise ValueError(msg)
        if not (math.isfinite(ttl) and ttl > 0):
            msg = f"the acknowledge link lifetime must be a positive duration, not {ttl}"
            raise ValueError(msg)
        self._key = key
        self._ttl = ttl
        self._clock = clock

    def __repr__(self) -> str:
        return f"AckSigner(ttl={self._ttl:g})"

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._key, _DOMAIN + payload, hashlib.sha256).digest()

    def token(self, group_key: str) -> str:
        """A URL-safe token that acknowledges ``group_key`` until ``now + ttl``."""
        if not group_key or len(group_key) > _MAX_GROUP_KEY:
            msg = f"a group key has 1 to {_MAX_GROUP_KEY} characters, not {len(group_key)}"
            raise ValueError(msg)
        expires = math.ceil(self._clock() + self._ttl)
        payload = f"{expires}.{group_key}".encode()
        return f"{_b64(payload)}.{_b64(self._mac(payload))}"

    def issued_at(self, token: str) -> float | None:
        """When a token :meth:`verify` accepts was made (its expiry minus the lifetime)."""
        head = token.partition(".")[0]
        try:
            expires = _unb64(head).partition(b".")[0].decode("ascii")
            return int(expires) - self._ttl
        except (binascii.Error, ValueError, UnicodeDecodeError):
            return None

    def verify(self, token: str, now: float) -> str | None:
        """The group key the token acknowledges, or None if forged, mangled or expired."""
        if not token or len(token) > _MAX_TOKEN or token.count(".") != 1:
            return None
        head, _, tail = token.partition(".")
        try:
            payload = _unb64(head)
            mac = _unb64(tail)
        except (binascii.Error, ValueError):
            return None
        if not hmac.compare_digest(mac, self._mac(payload)):
            return None
        expires, _, group_key = payload.partition(b".")
        try:
            deadline = int(expires.decode("ascii"))
            key = group_key.decode()
        except (UnicodeDecodeError, ValueError):
            return None
        if now > deadline or not key:
            return None
        return key
