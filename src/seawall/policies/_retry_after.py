"""How long a vendor asked us to wait, read from its response headers.

``Retry-After`` (RFC 9110 §10.2.3) is the standard: either delay-seconds or an
HTTP-date. Many vendors instead (or also) send a rate-limit reset:

* ``RateLimit-Reset`` and the ``reset=`` / ``t=`` parameter of ``RateLimit``
  (IETF draft-ietf-httpapi-ratelimit-headers): delta seconds;
* ``X-RateLimit-Reset``: delta seconds for some vendors, Unix epoch seconds for
  others (GitHub, Discord);
* ``X-Rate-Limit-Reset``: Unix epoch seconds (X/Twitter).

A number larger than :data:`EPOCH_THRESHOLD` cannot sensibly be a delay, so it
is read as epoch seconds (or epoch milliseconds above
:data:`EPOCH_MS_THRESHOLD`). Reset headers describe a quota window, so the
engine should consult this only for a throttled or failed answer, not a 200.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC
from email.utils import parsedate_to_datetime

__all__ = ["EPOCH_MS_THRESHOLD", "EPOCH_THRESHOLD", "MAX_RETRY_AFTER", "parse_retry_after"]

#: A vendor asking for more than a day is treated as asking for a day.
MAX_RETRY_AFTER = 86_400.0
#: Reset values above this (2001-09-09 as epoch seconds) are timestamps.
EPOCH_THRESHOLD = 1e9
#: Reset values above this (5138 AD as epoch seconds) are epoch milliseconds.
EPOCH_MS_THRESHOLD = 1e11

_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")
_RATELIMIT_RESET_PARAM = re.compile(r"(?:^|[\s,;])(?:reset|t)\s*=\s*([+-]?\d+(?:\.\d+)?)")


def parse_retry_after(headers: Mapping[str, str], *, wall_now: float) -> float | None:
    """Seconds the vendor asked us to wait, or None when it said nothing usable.

    ``wall_now`` is the current Unix time (wall clock, not monotonic), needed
    to turn an HTTP-date or an epoch reset into a delay. Header names are
    matched case-insensitively. Sources are tried in order: ``Retry-After``,
    ``RateLimit-Reset``, ``X-RateLimit-Reset``, ``X-Rate-Limit-Reset``,
    ``RateLimit``; an unparseable value falls through to the next source. A
    time in the past gives 0; the result is capped at :data:`MAX_RETRY_AFTER`.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    delay = _retry_after(lowered.get("retry-after"), wall_now)
    for name in ("ratelimit-reset", "x-ratelimit-reset", "x-rate-limit-reset"):
        if delay is None:
            delay = _reset(lowered.get(name), wall_now)
    if delay is None:
        delay = _ratelimit_field(lowered.get("ratelimit"), wall_now)
    if delay is None:
        return None
    return min(MAX_RETRY_AFTER, max(0.0, delay))


def _number(value: str) -> float | None:
    text = value.strip()
    if not _NUMBER.fullmatch(text):
        return None
    number = float(text)
    return number if math.isfinite(number) else None


def _retry_after(value: str | None, wall_now: float) -> float | None:
    if value is None:
        return None
    # delay-seconds is 1*DIGIT; a fraction or a sign is tolerated (a negative
    # value then means "now"), because being lenient here costs nothing.
    number = _number(value)
    if number is not None:
        return number
    try:
        when = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        # RFC 9110 §5.6.7: HTTP-dates are always GMT; "-0000" parses as naive.
        when = when.replace(tzinfo=UTC)
    return when.timestamp() - wall_now


def _reset(value: str | None, wall_now: float) -> float | None:
    if value is None:
        return None
    number = _number(value)
    if number is None:
        return None
    if number > EPOCH_MS_THRESHOLD:
        return number / 1000.0 - wall_now
    if number > EPOCH_THRESHOLD:
        return number - wall_now
    return number


def _ratelimit_field(value: str | None, wall_now: float) -> float | None:
    if value is None:
        return None
    match = _RATELIMIT_RESET_PARAM.search(value)
    if match is None:
        return None
    return _reset(match.group(1), wall_now)
