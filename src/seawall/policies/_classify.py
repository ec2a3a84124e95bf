"""What an answer from a vendor means for breakers, retries and SLAs.

A 402 card decline is the vendor working correctly; a 503 is the vendor
failing; a 429 is the vendor pushing back on *us*. Conflating them makes a
breaker open on a run of declined cards (Resilience4j's ``ignoreExceptions`` /
``recordExceptions`` exist for the same reason) or hides an outage behind
retries. Status families follow RFC 9110 §15.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

__all__ = [
    "ClassificationSettings",
    "Outcome",
    "classify_status",
    "counts_against_breaker",
    "counts_against_vendor",
]


class Outcome(enum.Enum):
    """How one attempt ended; the values are the slugs events carry.

    The engine reads ``_value_`` (the documented sunder attribute) on its hot
    path: ``.value`` is a Python-level descriptor on Python 3.11.
    """

    #: A usable answer (1xx, 2xx, 3xx by default).
    SUCCESS = "success"
    #: A definitive answer that is not a vendor fault: a 402 card decline, a 404.
    FINAL = "final"
    #: Back-pressure (429): the vendor is up but asks us to slow down.
    THROTTLED = "throttled"
    #: A vendor fault: a 5xx, a garbled status.
    FAILURE = "failure"
    #: The attempt ran past its timeout.
    TIMEOUT = "timeout"
    #: The vendor could not be reached, or the connection broke mid-call.
    CONNECT_ERROR = "connect-error"


#: read on every call: as module constants, since on Python 3.11 ``Outcome.X`` passes
#: through EnumType's ``__getattr__`` hook (about 45 ns a read)
_FAILURE, _TIMEOUT, _CONNECT_ERROR = Outcome.FAILURE, Outcome.TIMEOUT, Outcome.CONNECT_ERROR


_LOWEST_STATUS = 100
_HIGHEST_STATUS = 599


@dataclass(frozen=True, slots=True, kw_only=True)
class ClassificationSettings:
    """Per-status overrides on top of the status-family defaults.

    The family defaults are: 1xx/2xx/3xx success, 4xx final, 5xx failure. The
    sets below take precedence over them and must not overlap. The defaults
    carve out 429 Too Many Requests (RFC 6585 §4: back-pressure, not an
    outage), 408 Request Timeout (RFC 9110 §15.5.9: the server gave up
    waiting, a vendor-side failure), and 501 Not Implemented / 505 HTTP Version
    Not Supported (RFC 9110 §15.6.2, §15.6.6: the same request will always get
    the same answer, so it is final rather than a fault).
    """

    success: frozenset[int] = field(default_factory=frozenset)
    final: frozenset[int] = frozenset({501, 505})
    throttled: frozenset[int] = frozenset({429})
    failure: frozenset[int] = frozenset({408})

    def __post_init__(self) -> None:
        named = {
            "success": self.success,
            "final": self.final,
            "throttled": self.throttled,
            "failure": self.failure,
        }
        for name, statuses in named.items():
            bad = sorted(s for s in statuses if not _LOWEST_STATUS <= s <= _HIGHEST_STATUS)
            if bad:
                msg = f"classification.{name}: {bad} are not HTTP statuses (100-599)"
                raise ValueError(msg)
        seen: dict[int, str] = {}
        for name, statuses in named.items():
            for status in sorted(statuses):
                if status in seen:
                    msg = (
                        f"classification: status {status} is listed both as "
                        f"{seen[status]} and as {name}; keep it in one set"
                    )
                    raise ValueError(msg)
                seen[status] = name


def classify_status(settings: ClassificationSettings, status: int) -> Outcome:
    """Classify an HTTP status from the vendor.

    Explicit sets in ``settings`` win; otherwise the status family decides. A
    status outside 100-599 is a garbled answer and so a vendor failure.
    """
    if status in settings.throttled:
        return Outcome.THROTTLED
    if status in settings.failure:
        return Outcome.FAILURE
    if status in settings.final:
        return Outcome.FINAL
    if status in settings.success:
        return Outcome.SUCCESS
    if 100 <= status < 400:
        return Outcome.SUCCESS
    if 400 <= status < 500:
        return Outcome.FINAL
    return Outcome.FAILURE


def counts_against_breaker(outcome: Outcome) -> bool:
    """Whether the outcome is a failure in the circuit breaker's window.

    SUCCESS and FINAL are recorded as successes; THROTTLED is neither (the
    engine calls ``CircuitBreaker.release``), so a vendor that rate-limits us
    is slowed down by the token bucket rather than cut off by the breaker.
    """
    # identity, not set membership: an Enum member hashes in Python code
    return outcome is _FAILURE or outcome is _TIMEOUT or outcome is _CONNECT_ERROR


def counts_against_vendor(outcome: Outcome) -> bool:
    """Whether the outcome counts as unavailability in the vendor's SLA and error budget.

    Vendor SLAs (e.g. Stripe's, AWS's) measure server-side errors and
    unanswered requests; a decline or a 429 for exceeding our own quota is not
    the vendor's outage. Today this is the same set as the breaker's, kept as a
    separate question so either can change without the other.
    """
    # identity, not set membership: an Enum member hashes in Python code
    return outcome is _FAILURE or outcome is _TIMEOUT or outcome is _CONNECT_ERROR
