"""Header hygiene shared by every upstream client."""

from __future__ import annotations

from collections.abc import Iterable

from seawall.engine import ProviderTarget

__all__ = ["HOP_BY_HOP", "outbound_headers", "outbound_url"]

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


def outbound_headers(
    headers: Iterable[tuple[str, str]], target: ProviderTarget
) -> list[tuple[str, str]]:
    """The caller's headers without hop-by-hop fields, with the provider's auth.

    A header the provider configuration sets (``Authorization``, an API key)
    replaces the caller's: the caller never chooses vendor credentials.
    """
    connection_named: set[str] = set()
    for key, value in headers:
        if key.lower() == "connection":
            connection_named.update(t.strip().lower() for t in value.split(","))
    injected = {key.lower() for key, _ in target.headers}
    out = [
        (key, value)
        for key, value in headers
        if (lower := key.lower()) not in HOP_BY_HOP
        and lower not in connection_named
        and lower not in injected
    ]
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
