"""HTTP plumbing every vendor simulator shares.

A simulator must never crash on what a client sends: bodies are bounded
(:data:`MAX_BODY_BYTES`, then 413), malformed JSON or form data becomes a 400
in the vendor's own error shape, and deep nesting that would blow the parser's
recursion limit is refused the same way. Handlers raise :class:`VendorError`
for a failure before the vendor "started executing" (validation, auth, a
missing resource); the app renders it with the simulator's error renderer.
"""

from __future__ import annotations

import asyncio
import json
import random
import string
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

__all__ = [
    "MAX_BODY_BYTES",
    "PROCESSING_DELAY_KEY",
    "ErrorRenderer",
    "VendorError",
    "WallClock",
    "json_response",
    "make_id",
    "nest_form_fields",
    "read_body",
    "read_json_object",
    "read_params",
    "vendor_work",
]

MAX_BODY_BYTES = 1024 * 1024
"""Largest request body a simulator reads; real vendors cap bodies too (Stripe: 16 KB per
parameter, SendGrid: 30 MB per message), and a bound keeps a fuzzing client from exhausting
memory."""

PROCESSING_DELAY_KEY = web.RequestKey("seawall.chaos.processing_delay", float)
"""Seconds a ``latency`` fault with ``phase: processing`` adds inside the vendor's work."""

_ALPHANUMERIC = string.ascii_letters + string.digits


class VendorError(Exception):
    """A failure the vendor reports in its own error shape.

    ``problems`` carries several ``(field, message)`` pairs for vendors that
    report all validation errors at once (SendGrid, Salesforce); ``details``
    adds vendor-specific members (Stripe's ``decline_code``, ``type``...).
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str = "",
        field: str | None = None,
        problems: Sequence[tuple[str | None, str]] = (),
        details: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.field = field
        self.problems: tuple[tuple[str | None, str], ...] = tuple(problems) or ((field, message),)
        self.details: dict[str, Any] = dict(details or {})
        self.headers: dict[str, str] = dict(headers or {})


ErrorRenderer = Callable[[VendorError], web.Response]


class WallClock:
    """Epoch seconds from ``time.time``; vendors stamp ``created`` with wall time.

    Satisfies :class:`seawall._types.Clock`, so a test swaps in a
    ``ManualClock(start=1_700_000_000)`` to expire idempotency keys.
    """

    __slots__ = ()

    def now(self) -> float:
        return time.time()


def json_response(
    payload: Any,
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    content_type: str = "application/json",
) -> web.Response:
    """Serialise ``payload`` once, so the bytes can be stored and replayed exactly."""
    body = json.dumps(payload, indent=2, sort_keys=False).encode()
    response = web.Response(body=body, status=status, content_type=content_type)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def make_id(rng: random.Random, prefix: str, length: int = 24, alphabet: str = "") -> str:
    """A vendor-looking identifier (``ch_3Mml...``) drawn from the simulator's seeded RNG."""
    chars = alphabet or _ALPHANUMERIC
    return prefix + "".join(rng.choice(chars) for _ in range(length))


async def read_body(request: web.Request) -> bytes:
    """The raw body, or a 413 :class:`VendorError` past :data:`MAX_BODY_BYTES`."""
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise _too_large() from None
    except web.RequestPayloadError as exc:
        # A body that does not match its Content-Encoding (gzip that is not gzip).
        raise VendorError(400, f"The request body could not be read: {_cause(exc)}") from None


async def read_json_object(request: web.Request) -> dict[str, Any]:
    """Parse the body as one JSON object, answering 400 for anything else."""
    body = await read_body(request)
    if not body.strip():
        raise VendorError(400, "The request body is empty; a JSON object is expected.")
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise VendorError(400, f"The request body is not valid JSON: {exc}.") from None
    if not isinstance(document, dict):
        raise VendorError(400, "The request body must be a JSON object.")
    return {str(key): value for key, value in document.items()}


async def read_params(request: web.Request) -> dict[str, Any]:
    """Parameters from a JSON body or a form body (urlencoded or multipart).

    Stripe's API "accepts form-encoded request bodies" with bracketed keys
    (``card[number]=...``; https://docs.stripe.com/api), Mailgun takes
    multipart forms; JSON is accepted too because gateways often forward it.
    """
    content_type = request.content_type
    if content_type == "application/json" or content_type.endswith("+json"):
        return await read_json_object(request)
    try:
        form = await request.post()
    except web.HTTPRequestEntityTooLarge:
        raise _too_large() from None
    except web.RequestPayloadError as exc:
        raise VendorError(400, f"The request body could not be read: {_cause(exc)}") from None
    except (ValueError, LookupError, AssertionError, HttpProcessingError, web.HTTPException) as exc:
        # aiohttp's multipart reader raises its HTTP parser errors for broken part headers.
        detail = str(exc).strip().replace("\n", " ")
        raise VendorError(400, f"The form body could not be parsed: {detail}") from None
    items: list[tuple[str, str]] = []
    for name, value in form.items():
        if isinstance(value, web.FileField):
            value.file.close()
            items.append((name, value.filename))
        elif isinstance(value, bytes | bytearray):
            items.append((name, bytes(value).decode("utf-8", "replace")))
        else:
            items.append((name, value))
    return nest_form_fields(items)


def nest_form_fields(items: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Turn ``card[number]=4242`` and ``items[0][price]=p`` into nested values.

    A repeated key or a ``[]`` suffix makes a list; a mapping whose keys are all
    digits becomes a list in index order, the way Stripe reads ``items[0]``.
    """
    root: dict[str, Any] = {}
    for key, value in items:
        parts = _split_key(key)
        node = root
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        last = parts[-1]
        if last == "":
            # "tags[]=a&tags[]=b" appends; the parent holds the list under its own name.
            node.setdefault("", []).append(value)
        elif last in node:
            existing = node[last]
            node[last] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            node[last] = value
    # The top level stays a mapping even when every key is a digit ("0=a&1=b").
    return {key: _listify(value) for key, value in root.items()}


def _split_key(key: str) -> list[str]:
    head, bracket, rest = key.partition("[")
    if not bracket or not head or not rest.endswith("]"):
        return [key]
    inner = rest[:-1].split("][")
    if any("[" in part or "]" in part for part in inner):
        return [key]
    return [head, *inner]


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    converted = {key: _listify(value) for key, value in node.items()}
    if set(converted) == {""}:
        return converted[""]
    if converted and all(key.isdigit() for key in converted):
        return [converted[key] for key in sorted(converted, key=int)]
    return converted


async def vendor_work(request: web.Request) -> None:
    """Where the vendor does its work: a ``processing`` latency fault waits here.

    Handlers call this after validation and, for idempotent requests, after the
    key is marked in flight, so a slow vendor holds the key the way a real one
    does and a concurrent retry with the same key meets 409.
    """
    delay = request.pop(PROCESSING_DELAY_KEY, 0.0)
    if delay > 0:
        await asyncio.sleep(delay)


def _cause(exc: BaseException) -> str:
    root = exc.__cause__ or exc
    return str(root).strip().replace("\n", " ") or type(root).__name__


def _too_large() -> VendorError:
    return VendorError(
        413,
        f"The request body is larger than {MAX_BODY_BYTES} bytes.",
        code="request_too_large",
    )
