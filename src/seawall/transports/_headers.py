"""Header hygiene shared by every upstream client."""

from __future__ import annotations

from collections.abc import Iterable

from seawall.engine import ProviderTarget

__all__ = ["HOP_BY_HOP", "octets", "outbound_headers", "outbound_url"]

#: Connection-specific fields a proxy must not forward (RFC 9110 §7.6.1), plus
#: Host and Content-Length, which the upstream client sets for the provider.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)


def octets(text: str) -> bytes:
    """Header text as bytes on the wire.

    seawall decodes every field it reads as latin-1, one character per byte,
    so encoding as latin-1 gives back the very bytes received. Text outside
    latin-1 (a field an adapter or a fallback built) goes as UTF-8 rather than
    failing the call.
    """
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape")


def outbound_headers(
    headers: Iterable[tuple[str, str]], target: ProviderTarget
) -> list[tuple[str, str]]:
    """The caller's headers without hop-by-hop fields, with the provider's auth.

    A header the provider configuration sets (``Authorization``, an API key)
    replaces the caller's: the caller never chooses vendor credentials.
    """
    injected = target.injected
    out: list[tuple[str, str]] = []
    connection_named: set[str] | None = None
    for key, value in headers:
        lower = key.lower()
        if lower in HOP_BY_HOP:
            if lower == "connection":
                named = {t.strip().lower() for t in value.split(",")}
                connection_named = named if connection_named is None else connection_named | named
        elif lower not in injected:
            out.append((key, value))
    if connection_named is not None:  # rare: fields a Connection header names go too
        out = [(k, v) for k, v in out if k.lower() not in connection_named]
    out.extend(target.headers)
    return out


def outbound_url(target: ProviderTarget, request_target: str) -> str:
    """The provider's base URL joined with the request's path and query."""
    if not request_target.startswith("/"):
        request_target = "/" + request_target
    url = target.base_url + request_target
    if target.query:
        from urllib.parse import urlencode

        url += ("&" if "?" in request_target else "?") + urlencode(target.query)
    return url
