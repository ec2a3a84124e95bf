"""Keeping notification URLs out of messages, logs and errors.

An Apprise URL is a credential: ``slack://TokenA/TokenB/TokenC``,
``mailto://user:password@host``, ``json://host/hook?token=...``. Where the
secret sits depends on the service, so :func:`redact` removes every piece of
the URL that could be one (user, password, path segments, query values, and a
host that does not look like a DNS name) from text that came from elsewhere,
such as an Apprise log line or a foreign exception.

At DEBUG level Apprise and urllib3 log the URLs they post to, path tokens
and query values included. :func:`guard_logs` puts a filter on those two
loggers that masks the secrets of every URL the deliverer uses, so turning
on debug logging during an incident does not spill credentials.
"""

from __future__ import annotations

import ipaddress
import logging
from urllib.parse import parse_qsl, unquote, urlsplit

__all__ = ["guard_logs", "redact", "scheme_of"]

_MASK = "***"
#: pieces shorter than this are ports, flags and short words, not secrets
_SHORTEST = 4


def scheme_of(url: str) -> str:
    """The URL's scheme (``mailto``, ``json`` ...): the one part safe to show."""
    return url.split("://", 1)[0].lower() if "://" in url else ""


def _looks_like_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return "." in host
    return True


def _pieces(url: str) -> set[str]:
    pieces = {url}
    _, _, rest = url.partition("://")
    pieces.add(rest)
    try:
        parts = urlsplit(url)
        user, password, host = parts.username, parts.password, parts.hostname
        query = parse_qsl(parts.query, keep_blank_values=False)
    except ValueError:  # an unparsable URL: mask it whole, and what sits between separators
        for chunk in rest.replace("?", "/").replace("&", "/").replace("@", "/").split("/"):
            pieces.add(chunk)
        return {p for p in pieces if len(p) >= _SHORTEST}
    for value in (user, password):
        if value:
            pieces.update({value, unquote(value)})
    if host and not _looks_like_host(host):
        pieces.add(host)
    for segment in parts.path.split("/"):
        pieces.update({segment, unquote(segment)})
    for _, value in query:
        pieces.add(value)
    if parts.query:
        pieces.add(parts.query)
    return {p for p in pieces if len(p) >= _SHORTEST}


def _mask(text: str, pieces: list[str]) -> str:
    for piece in pieces:
        text = text.replace(piece, _MASK)
    return text


def redact(text: str, url: str) -> str:
    """``text`` with every secret-looking piece of ``url`` replaced by ``***``."""
    return _mask(text, sorted(_pieces(url), key=len, reverse=True))


class _RedactingFilter(logging.Filter):
    """Masks the secrets of known URLs in every record of the loggers it guards."""

    def __init__(self) -> None:
        super().__init__()
        self._pieces: set[str] = set()
        self._ordered: list[str] = []

    def add(self, url: str) -> None:
        fresh = _pieces(url) - self._pieces
        if fresh:
            self._pieces |= fresh
            self._ordered = sorted(self._pieces, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._ordered:
            return True
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a record whose arguments do not fit its format
            return True
        clean = _mask(message, self._ordered)
        if clean != message:
            record.msg, record.args = clean, None
        return True


_FILTER = _RedactingFilter()
#: the libraries that log notification URLs at DEBUG level
_GUARDED = ("apprise", "urllib3.connectionpool")


def guard_logs(url: str) -> None:
    """Mask ``url``'s secrets in Apprise's and urllib3's log records from now on."""
    _FILTER.add(url)
    for name in _GUARDED:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
