"""Fallbacks when no provider can serve: a cached answer, a static one, or the outbox.

A fallback never applies to a call that may have taken effect: if a write
reached a vendor and its fate is unknown, answering "accepted" or an old
response would hide a possible double charge. Only calls that certainly did
nothing (never sent, refused by seawall, or answered "not processed") fall back.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass
from typing import Protocol

from seawall.engine._messages import Request, Response

__all__ = ["NOT_PROCESSED", "Outbox", "ResponseCache", "static_response"]

#: statuses that say the vendor did not act on the request (RFC 9110 §15.6.3-5, RFC 6585 §4)
NOT_PROCESSED = frozenset({429, 502, 503, 504})
_CACHEABLE = frozenset({"GET", "HEAD"})


class Outbox(Protocol):
    """Durable store of writes to deliver later; ``enqueue`` returns once committed."""

    async def enqueue(
        self,
        integration: str,
        request: Request,
        *,
        order_key: str,
        idempotency_key: str | None,
    ) -> str: ...


@dataclass(slots=True)
class _Entry:
    stored_at: float
    response: Response
    size: int


class ResponseCache:
    """The last good answer per request (method and target), bounded in entries and bytes.

    Only safe methods are cached; only 2xx answers are kept.
    """

    __slots__ = ("_bytes", "_entries", "max_bytes", "max_entries")

    def __init__(self, *, max_entries: int = 10_000, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple[str, str], _Entry] = OrderedDict()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    def store(self, request: Request, response: Response, now: float) -> None:
        if request.method not in _CACHEABLE or not 200 <= response.status < 300:
            return
        size = len(response.body) + sum(len(k) + len(v) for k, v in response.headers)
        if size > self.max_bytes // 16:
            return  # one huge answer must not evict everything else
        key = (request.method, request.target)
        old = self._entries.pop(key, None)
        if old is not None:
            self._bytes -= old.size
        copy = Response(
            status=response.status,
            headers=list(response.headers),
            body=response.body,
            provider=response.provider,
        )
        self._entries[key] = _Entry(now, copy, size)
        self._bytes += size
        while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
            _, evicted = self._entries.popitem(last=False)
            self._bytes -= evicted.size

    def lookup(self, request: Request, now: float, max_age: float) -> Response | None:
        if request.method not in _CACHEABLE:
            return None
        entry = self._entries.get((request.method, request.target))
        if entry is None:
            return None
        age = now - entry.stored_at
        if age > max_age:
            return None
        self._entries.move_to_end((request.method, request.target))
        cached = entry.response
        return Response(
            status=cached.status,
            headers=list(cached.headers),
            body=cached.body,
            provider=cached.provider,
            stale=age,
        )


def static_response(status: int, body: object, headers: dict[str, str]) -> Response:
    """The configured static answer; a non-bytes body is sent as JSON."""
    out = list(headers.items())
    if isinstance(body, bytes):
        payload = body
    elif isinstance(body, str):
        payload = body.encode()
        if not any(k.lower() == "content-type" for k, _ in out):
            out.append(("Content-Type", "text/plain; charset=utf-8"))
    else:
        payload = json.dumps(body).encode()
        if not any(k.lower() == "content-type" for k, _ in out):
            out.append(("Content-Type", "application/json"))
    return Response(status=status, headers=out, body=payload, provider="static")
