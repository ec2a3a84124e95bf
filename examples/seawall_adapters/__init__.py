"""Example adapters: a backup vendor answering in the primary vendor's dialect.

``seawall_adapters.payments:StripeToAdyen`` lets Adyen serve Stripe calls and
``seawall_adapters.email:SendgridToMailgun`` lets Mailgun serve SendGrid calls
(see ``adapter:`` in the reference configuration). Each is pure: no I/O, no
clock, no randomness, so a retry of one canonical request is translated to
the same bytes every time and the backup's idempotency keeps it exactly-once.

A call an adapter cannot express for its vendor raises
:class:`UntranslatableRequest` (a :class:`ValueError`) naming the method and
path; the engine treats that as "this provider cannot serve this call" rather
than sending the backup something it would misread.

Besides that exception this module holds the helpers both adapters share:
bounded body parsing (JSON and Stripe-style bracketed forms), header
forwarding and the rebuilt :class:`~seawall.engine.Response`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

from seawall.engine import Request, Response

__all__ = ["MAX_BODY_BYTES", "UntranslatableRequest"]

MAX_BODY_BYTES = 1024 * 1024
"""Largest canonical request body (1 MiB) an adapter translates, and largest answer it parses."""

MAX_FORM_FIELDS = 1000
MAX_FORM_DEPTH = 4

#: never forwarded: framing the upstream recomputes, and the caller's credentials,
#: which belong to the primary vendor (seawall injects the backup's own auth)
_DROPPED_REQUEST_HEADERS = frozenset(
    {
        "connection",
        "content-encoding",
        "content-length",
        "content-type",
        "cookie",
        "host",
        "keep-alive",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "authorization",
        "x-api-key",
    }
)
#: never copied onto a translated answer: its body and framing were rebuilt
_DROPPED_RESPONSE_HEADERS = frozenset(
    {
        "connection",
        "content-encoding",
        "content-length",
        "content-type",
        "keep-alive",
        "set-cookie",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
IDEMPOTENCY_HEADER = "Idempotency-Key"


class UntranslatableRequest(ValueError):
    """This canonical call has no mapping to the backup vendor's API.

    ``method`` and ``path`` name the call; ``reason`` says what cannot be expressed.
    """

    def __init__(self, method: str, target: str, reason: str) -> None:
        self.method = method
        self.path = target.partition("?")[0]
        self.reason = reason
        super().__init__(f"{method} {self.path} cannot be translated: {reason}")

    def __reduce__(self) -> tuple[type[UntranslatableRequest], tuple[str, str, str]]:
        return (type(self), (self.method, self.path, self.reason))


def request_path(request: Request) -> str:
    """The path of ``request.target``, without its query."""
    return request.target.partition("?")[0]


def refuse(request: Request, reason: str) -> UntranslatableRequest:
    """An :class:`UntranslatableRequest` for ``request`` (to ``raise``)."""
    return UntranslatableRequest(request.method, request.target, reason)


def check_body(request: Request) -> None:
    """Refuse bodies past :data:`MAX_BODY_BYTES` and compressed bodies."""
    if len(request.body) > MAX_BODY_BYTES:
        msg = f"the body is {len(request.body)} bytes; adapters translate at most {MAX_BODY_BYTES}"
        raise refuse(request, msg)
    encoding = (request.header("Content-Encoding") or "identity").strip().lower()
    if encoding != "identity":
        raise refuse(request, f"a {encoding}-encoded body is not translated")


def media_type(request: Request) -> str:
    """The lower-cased media type of ``Content-Type`` (``""`` when absent)."""
    value = request.header("Content-Type") or ""
    return value.partition(";")[0].strip().lower()


def is_json(kind: str) -> bool:
    return kind == "application/json" or kind.endswith("+json")


def _reject_constant(name: str) -> Any:
    msg = f"{name} is not a JSON number"
    raise ValueError(msg)


def parse_json_object(request: Request) -> dict[str, Any]:
    """The body as one JSON object (NaN and Infinity refused)."""
    try:
        document = json.loads(request.body, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise refuse(request, f"the body is not valid JSON ({_short(str(exc))})") from None
    if not isinstance(document, dict):
        raise refuse(request, "the body must be a JSON object")
    return document


def parse_form(request: Request) -> dict[str, Any]:
    """A urlencoded body with Stripe's bracketed keys, nested.

    ``card[number]=4242`` becomes ``{"card": {"number": "4242"}}``, ``expand[]=a``
    and repeated keys become lists, and ``items[0][price]`` a list in index order.
    """
    try:
        text = request.body.decode("utf-8")
        pairs = parse_qsl(
            text,
            keep_blank_values=True,
            max_num_fields=MAX_FORM_FIELDS,
            encoding="utf-8",
            errors="strict",
        )
    except ValueError as exc:  # UnicodeDecodeError and too many fields are ValueErrors
        raise refuse(request, f"the form body cannot be parsed ({_short(str(exc))})") from None
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = _split_key(key)
        if parts is None or len(parts) > MAX_FORM_DEPTH:
            raise refuse(request, f"the form key {_short(key)!r} is malformed or nested too deep")
        node = root
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise refuse(request, f"the form key {_short(key)!r} conflicts with another")
            node = child
        last = parts[-1]
        existing = node.get(last)
        if isinstance(existing, dict):
            raise refuse(request, f"the form key {_short(key)!r} conflicts with another")
        if last == "":
            node.setdefault("", []).append(value)
        elif existing is None:
            node[last] = value
        elif isinstance(existing, list):
            existing.append(value)
        else:
            node[last] = [existing, value]
    try:
        return {key: _listify(value, key) for key, value in root.items()}
    except _FormConflict as exc:
        raise refuse(
            request, f"the form key {_short(str(exc))!r} mixes [] with named keys"
        ) from None


class _FormConflict(ValueError):
    pass


def _split_key(key: str) -> list[str] | None:
    head, bracket, rest = key.partition("[")
    if not bracket:
        return [key] if "]" not in key else None
    if not head or not rest.endswith("]"):
        return None
    inner = rest[:-1].split("][")
    if any("[" in part or "]" in part for part in inner):
        return None
    if any(part == "" for part in inner[:-1]):
        return None
    return [head, *inner]


def _listify(node: Any, name: str = "") -> Any:
    if not isinstance(node, dict):
        return node
    converted = {key: _listify(value, f"{name}[{key}]") for key, value in node.items()}
    if set(converted) == {""}:
        return converted[""]
    if "" in converted:
        raise _FormConflict(name or "[]")
    if converted and all(key.isascii() and key.isdigit() for key in converted):
        return [converted[key] for key in sorted(converted, key=int)]
    return converted


def forward_headers(
    request: Request, *, drop: Iterable[str] = (), drop_prefixes: Iterable[str] = ()
) -> list[tuple[str, str]]:
    """The caller's headers minus framing, credentials and the vendor-only ones named."""
    dropped = _DROPPED_REQUEST_HEADERS | {name.lower() for name in drop}
    prefixes = tuple(prefix.lower() for prefix in drop_prefixes)
    return [
        (name, value)
        for name, value in request.headers
        if name.lower() not in dropped and not name.lower().startswith(prefixes)
    ]


def idempotency_key(request: Request) -> str | None:
    """The one ``Idempotency-Key`` of ``request``; several different ones are refused."""
    values = {value for name, value in request.headers if name.lower() == "idempotency-key"}
    if len(values) > 1:
        raise refuse(request, "the request carries several different Idempotency-Key headers")
    return next(iter(values), None)


def read_json_object(body: bytes) -> dict[str, Any] | None:
    """A provider's answer as a JSON object, or None if it is not one (or too large)."""
    if not body or len(body) > MAX_BODY_BYTES:
        return None
    try:
        document = json.loads(body, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        return None
    return document if isinstance(document, dict) else None


def body_snippet(body: bytes, limit: int = 200) -> str:
    """The start of a non-JSON answer, readable, for an error message."""
    text = body[: limit * 4].decode("utf-8", "replace")
    return " ".join(text.split())[:limit]


def answer(
    original: Response,
    status: int,
    *,
    body: bytes = b"",
    headers: Iterable[tuple[str, str]] = (),
    content_type: str | None = "application/json",
    drop: Iterable[str] = (),
) -> Response:
    """A translated answer: the provider's headers minus framing and ``drop``, a new body.

    ``provider``, ``attempts`` and ``stale`` are carried over from ``original``.
    """
    dropped = _DROPPED_RESPONSE_HEADERS | {name.lower() for name in drop}
    kept = [(name, value) for name, value in original.headers if name.lower() not in dropped]
    kept.extend(headers)
    if content_type is not None and body:
        kept.append(("Content-Type", content_type))
    return Response(
        status=status,
        headers=kept,
        body=body,
        provider=original.provider,
        attempts=original.attempts,
        stale=original.stale,
    )


def dump_json(payload: Any) -> bytes:
    """Deterministic JSON bytes (key order as built, no spaces)."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
