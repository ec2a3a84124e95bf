"""Idempotency keys the way Stripe documents them.

From https://docs.stripe.com/api/idempotent_requests and
https://docs.stripe.com/error-low-level#idempotency:

* The first request with a key stores the status code and body it produced,
  success or failure ("including 500 errors").
* A later request with the same key and the same parameters gets that stored
  result back, byte for byte; Stripe marks it ``Idempotent-Replayed: true``.
* The same key with different parameters, or on another endpoint, is an
  ``idempotency_error`` (400).
* A request arriving while the first is still executing is refused with 409;
  nothing is stored, so it can be retried.
* A result is saved only once the endpoint started executing: a request that
  fails validation stores nothing and its key stays free.
* Keys may be pruned once they are at least 24 hours old.

Adyen (https://docs.adyen.com/development-resources/api-idempotency) keeps
keys of at most 64 characters for at least 31 days and echoes the key in the
response; the simulators reuse this store with those settings.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from seawall.chaos._http import VendorError

__all__ = [
    "IDEMPOTENCY_HEADER",
    "REPLAYED_HEADER",
    "IdempotencyOutcome",
    "IdempotencyRecord",
    "IdempotencyStore",
    "fingerprint_of",
    "respond_idempotently",
]

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
_NOT_REPLAYED = frozenset({"content-length", "date", "server", "transfer-encoding"})


class IdempotencyOutcome(enum.Enum):
    """What a request carrying a key may do."""

    EXECUTE = "execute"  # first use (or the old record expired): run the endpoint
    REPLAY = "replay"  # same key, same parameters, finished: send the stored response
    MISMATCH = "mismatch"  # same key, different parameters or endpoint: 400
    IN_FLIGHT = "in_flight"  # same key, first request still executing: 409


@dataclass(slots=True)
class IdempotencyRecord:
    """One key: what it was first used for and, once finished, the exact response."""

    key: str
    endpoint: str
    fingerprint: str
    created_at: float
    status: int | None = None
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    replays: int = 0

    @property
    def in_flight(self) -> bool:
        return self.status is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "endpoint": self.endpoint,
            "created_at": self.created_at,
            "status": self.status,
            "in_flight": self.in_flight,
            "replays": self.replays,
        }


class IdempotencyStore:
    """Records by key, expiring ``ttl_seconds`` after first use on ``clock``."""

    def __init__(self, *, ttl_seconds: float, clock: Callable[[], float]) -> None:
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._records: dict[str, IdempotencyRecord] = {}

    def __len__(self) -> int:
        self._prune()
        return len(self._records)

    def get(self, key: str) -> IdempotencyRecord | None:
        self._prune()
        return self._records.get(key)

    def begin(
        self, key: str, *, endpoint: str, fingerprint: str
    ) -> tuple[IdempotencyOutcome, IdempotencyRecord]:
        """Claim ``key`` for a request, or say why the stored record answers instead."""
        self._prune()
        record = self._records.get(key)
        if record is None:
            record = IdempotencyRecord(
                key=key, endpoint=endpoint, fingerprint=fingerprint, created_at=self._clock()
            )
            self._records[key] = record
            return IdempotencyOutcome.EXECUTE, record
        if record.endpoint != endpoint or record.fingerprint != fingerprint:
            return IdempotencyOutcome.MISMATCH, record
        if record.in_flight:
            return IdempotencyOutcome.IN_FLIGHT, record
        record.replays += 1
        return IdempotencyOutcome.REPLAY, record

    def complete(self, key: str, response: web.Response) -> None:
        """Store the finished response so a retry gets the same bytes."""
        record = self._records.get(key)
        if record is None:
            return
        body = response.body
        record.body = bytes(body) if isinstance(body, bytes | bytearray) else b""
        record.status = response.status
        record.headers = tuple(
            (name, value)
            for name, value in response.headers.items()
            if name.lower() not in _NOT_REPLAYED
        )

    def abandon(self, key: str) -> None:
        """Forget a key whose request never started executing (validation failed)."""
        record = self._records.get(key)
        if record is not None and record.in_flight:
            del self._records[key]

    def snapshot(self) -> list[dict[str, Any]]:
        self._prune()
        return [record.to_dict() for record in self._records.values()]

    def _prune(self) -> None:
        now = self._clock()
        expired = [
            key
            for key, record in self._records.items()
            if not record.in_flight and now - record.created_at >= self.ttl_seconds
        ]
        for key in expired:
            del self._records[key]


def fingerprint_of(params: Mapping[str, Any]) -> str:
    """Parameters in a canonical form: key order and ``100`` versus ``"100"`` do not matter.

    Form bodies carry strings and JSON bodies carry numbers; a retry that
    switches encoding is still the same request.
    """
    return json.dumps(_canonical(params), sort_keys=True, separators=(",", ":"))


def _canonical(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(key): _canonical(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(item) for item in value]
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


async def respond_idempotently(
    request: web.Request,
    store: IdempotencyStore,
    params: Mapping[str, Any],
    execute: Callable[[], Awaitable[web.Response]],
    *,
    mismatch: Callable[[str], VendorError],
    in_flight: Callable[[str], VendorError],
    max_key_length: int = 255,
    echo_key: bool = False,
) -> web.Response:
    """Run ``execute`` at most once per key; replay its response to every later retry.

    ``execute`` raises :class:`VendorError` for a request that fails before the
    endpoint starts working (validation); that stores nothing. Whatever it
    returns is stored and replayed, declines and 5xx included.
    """
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        return await execute()
    if not key or len(key) > max_key_length:
        raise VendorError(
            400,
            f"The {IDEMPOTENCY_HEADER} header must be 1 to {max_key_length} characters long.",
            code="idempotency_key_invalid",
            field=IDEMPOTENCY_HEADER,
        )
    outcome, record = store.begin(
        key,
        endpoint=f"{request.method} {request.path}",
        fingerprint=fingerprint_of(params),
    )
    if outcome is IdempotencyOutcome.MISMATCH:
        raise mismatch(key)
    if outcome is IdempotencyOutcome.IN_FLIGHT:
        raise in_flight(key)
    if outcome is IdempotencyOutcome.REPLAY:
        replay = web.Response(body=record.body, status=record.status or 200)
        replay.headers.clear()
        replay.headers.extend(record.headers)
        replay.headers[REPLAYED_HEADER] = "true"
        if echo_key:
            replay.headers[IDEMPOTENCY_HEADER] = key
        return replay
    try:
        response = await execute()
    except BaseException:
        store.abandon(key)
        raise
    if echo_key:
        response.headers[IDEMPOTENCY_HEADER] = key
    store.complete(key, response)
    return response
