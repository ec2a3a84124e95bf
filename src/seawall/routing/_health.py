"""Which providers are healthy: passive outlier detection plus active probes.

Passive detection follows Envoy's outlier detection (envoyproxy.io, arch
overview, "Outlier detection"), fed by real traffic through
:meth:`HealthBoard.record`:

* ``consecutive_failures`` failures in a row eject a provider at once
  (Envoy's ``consecutive_5xx``);
* so does a failure rate of at least ``failure_rate`` over at least
  ``min_calls`` calls in the current ``interval`` window (Envoy's
  ``failure_percentage_threshold`` and ``failure_percentage_request_volume``).
  Windows are tumbling: one starts at the first call after the previous one
  ended. Unlike Envoy, which looks at the counts on an interval timer, the
  board checks on every call, so it needs no timer;
* the n-th ejection in a row lasts ``base_ejection * n`` seconds, capped at
  ``max_ejection`` (Envoy's increasing ejection time). The multiplier falls
  back one level per ``max_ejection`` seconds of HEALTHY operation: Envoy
  lowers it on every healthy ``interval`` sweep; seawall forgives more
  slowly, so a vendor that breaks every few minutes keeps getting long
  ejections instead of 30-second ones;
* at most ``max_ejected_fraction`` of the providers are held out by outlier
  detection at once (ejected, or still recovering from an ejection): the
  limit is ``floor(max_ejected_fraction * n)``, but at least one when the
  fraction is above zero, as Envoy ejects "at least one host regardless of
  the value" of ``max_ejection_percent``. Envoy's documented check compares
  the count *before* an ejection and can overshoot; seawall never does. A fraction of 0 turns
  passive ejection off. Operator ejections count towards the limit but are
  never refused by it.

Active probes (:meth:`HealthBoard.probe`) mark a provider PROBE_DOWN after
``probe_unhealthy_after`` failures in a row and up again after
``probe_healthy_after`` passes in a row, like the ``unhealthy_after`` and
``healthy_after`` of the ``health:`` block.

**Failback without flapping.** An ejected or probe-down provider takes
traffic again only when its ejection time has passed and, if it is probed,
when probes have been passing for ``healthy_for`` seconds without a failure
since it was taken out; any failure in that time (a failed probe, or a failed
call in panic mode) restarts the clock. Meanwhile it is RECOVERING. A
provider counts as probed once it is named in ``probed=`` or a probe result
for it arrives. A provider without probes comes back when its ejection ends,
and one more run of failures ejects it again, for longer.

The board is pure: ``now`` is monotonic seconds passed in, and changes that
happen by the passing of time (an ejection ending) are noticed by whichever
call comes next and queued, like every other change, for
:meth:`HealthBoard.drain_transitions`.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from seawall.routing._provider_status import HealthTransition, ProviderHealth, ProviderStatus

__all__ = ["HealthBoard", "OutlierSettings"]

#: read on every call: as module constants, since on Python 3.11 ``ProviderStatus.X`` passes
#: through EnumType's ``__getattr__`` hook (about 45 ns a read)
_HEALTHY = ProviderStatus.HEALTHY


@dataclass(frozen=True, slots=True, kw_only=True)
class OutlierSettings:
    """Outlier detection and failback; the defaults are Envoy's where Envoy has one."""

    consecutive_failures: int = 5
    failure_rate: float = 0.5
    min_calls: int = 10
    interval: float = 10.0
    base_ejection: float = 30.0
    max_ejection: float = 300.0
    max_ejected_fraction: float = 0.5
    healthy_for: float = 10.0
    probe_unhealthy_after: int = 2
    probe_healthy_after: int = 2

    def __post_init__(self) -> None:
        for name, count in (
            ("consecutive_failures", self.consecutive_failures),
            ("min_calls", self.min_calls),
            ("probe_unhealthy_after", self.probe_unhealthy_after),
            ("probe_healthy_after", self.probe_healthy_after),
        ):
            if count < 1:
                msg = f"outlier detection: {name} must be at least 1, not {count}"
                raise ValueError(msg)
        if not 0 < self.failure_rate <= 1:
            msg = f"outlier detection: failure_rate must be in (0, 1], not {self.failure_rate}"
            raise ValueError(msg)
        if not 0 <= self.max_ejected_fraction <= 1:
            msg = (
                "outlier detection: max_ejected_fraction must be in [0, 1], "
                f"not {self.max_ejected_fraction}"
            )
            raise ValueError(msg)
        for name, seconds in (("interval", self.interval), ("base_ejection", self.base_ejection)):
            if not (math.isfinite(seconds) and seconds > 0):
                msg = f"outlier detection: {name} must be a positive duration, not {seconds}"
                raise ValueError(msg)
        if not (math.isfinite(self.max_ejection) and self.max_ejection >= self.base_ejection):
            msg = (
                f"outlier detection: max_ejection ({self.max_ejection}) must be finite and "
                f"at least base_ejection ({self.base_ejection})"
            )
            raise ValueError(msg)
        if not (math.isfinite(self.healthy_for) and self.healthy_for >= 0):
            msg = f"outlier detection: healthy_for must be a duration >= 0, not {self.healthy_for}"
            raise ValueError(msg)

    def ejection_limit(self, providers: int) -> int:
        """How many of ``providers`` outlier detection may hold out at once."""
        if self.max_ejected_fraction == 0 or providers == 0:
            return 0
        # The epsilon keeps 0.3 * 10 from flooring to 2.
        return max(1, math.floor(self.max_ejected_fraction * providers + 1e-9))


class _Provider:
    """Mutable health facts of one provider (the board's private record)."""

    __slots__ = (
        "clean_since",
        "consecutive",
        "ejected_until",
        "held_by_ejection",
        "level",
        "name",
        "passing_since",
        "probe_down",
        "probe_failures",
        "probe_passes",
        "probed",
        "status",
        "window_calls",
        "window_end",
        "window_failures",
    )

    def __init__(self, name: str, *, probed: bool) -> None:
        self.name = name
        self.status = ProviderStatus.HEALTHY
        self.probed = probed
        self.ejected_until: float | None = None
        #: RECOVERING because an ejection ended (counts towards the ejection limit).
        self.held_by_ejection = False
        self.level = 0
        self.clean_since: float | None = None
        self.consecutive = 0
        #: when the failure-rate window ends (a new one starts with the next call after)
        self.window_end = -math.inf
        self.window_calls = 0
        self.window_failures = 0
        self.probe_down = False
        self.probe_passes = 0
        self.probe_failures = 0
        self.passing_since: float | None = None

    def reset_counts(self) -> None:
        self.consecutive = 0
        self.window_end = -math.inf
        self.window_calls = 0
        self.window_failures = 0


class HealthBoard:
    """The health of every provider of one integration; see the module docstring.

    Call order: the engine asks :meth:`available` before ordering providers,
    and reports each real attempt's verdict with :meth:`record` (only
    verdicts that count against the vendor: a 4xx caused by the caller is not
    a provider failure). The probe scheduler reports with :meth:`probe`.
    Afterwards the engine turns :meth:`drain_transitions` into events.
    """

    __slots__ = ("_limit", "_providers", "_settings", "_transitions", "changed")

    def __init__(
        self,
        providers: Sequence[str],
        *,
        settings: OutlierSettings | None = None,
        probed: Collection[str] = (),
    ) -> None:
        names = tuple(providers)
        if not names:
            msg = "a health board needs at least one provider"
            raise ValueError(msg)
        if len(set(names)) != len(names):
            msg = f"a health board lists each provider once, not {list(names)}"
            raise ValueError(msg)
        unknown = set(probed) - set(names)
        if unknown:
            msg = f"probed providers {sorted(unknown)} are not among {list(names)}"
            raise ValueError(msg)
        self._settings = settings if settings is not None else OutlierSettings()
        self._providers = {name: _Provider(name, probed=name in probed) for name in names}
        self._limit = self._settings.ejection_limit(len(names))
        self._transitions: list[HealthTransition] = []
        #: whether transitions wait to be drained (read on every call, so a plain field)
        self.changed = False

    @property
    def settings(self) -> OutlierSettings:
        return self._settings

    @property
    def providers(self) -> tuple[str, ...]:
        return tuple(self._providers)

    @property
    def ejection_limit(self) -> int:
        """How many providers outlier detection may hold out at once."""
        return self._limit

    # -- reading --------------------------------------------------------------

    def available(self, now: float) -> frozenset[str]:
        """The providers that take traffic at ``now`` (status HEALTHY)."""
        return frozenset(
            name
            for name, provider in self._providers.items()
            if self._settle(provider, now) is ProviderStatus.HEALTHY
        )

    def status(self, name: str, now: float) -> ProviderStatus:
        """``name``'s status at ``now``."""
        return self._settle(self._get(name), now)

    def health(self, name: str, now: float) -> ProviderHealth:
        """Everything the board knows about ``name`` at ``now``."""
        provider = self._get(name)
        self._settle(provider, now)
        return ProviderHealth(
            name=name,
            status=provider.status,
            ejected_until=provider.ejected_until,
            ejections=provider.level,
            consecutive_failures=provider.consecutive,
            window_calls=provider.window_calls,
            window_failures=provider.window_failures,
            probed=provider.probed,
            probe_down=provider.probe_down,
            passing_since=provider.passing_since,
        )

    def drain_transitions(self) -> list[HealthTransition]:
        """Status changes since the last drain, oldest first; the list is emptied."""
        drained, self._transitions = self._transitions, []
        self.changed = False
        return drained

    # -- real traffic and probes ----------------------------------------------

    def record(self, name: str, *, ok: bool, now: float) -> None:
        """The verdict of one real attempt on ``name`` that ended at ``now``.

        Only a HEALTHY provider's calls are counted. A provider out of traffic
        gets calls only in panic mode; there a failure restarts its recovery
        clock and a success proves nothing (only probes bring it back).
        """
        provider = self._providers.get(name) or self._get(name)
        # A HEALTHY provider at level 0 has nothing to settle: skip the calls (every attempt)
        if (provider.status is not _HEALTHY or provider.level) and self._settle(
            provider, now
        ) is not _HEALTHY:
            if not ok:
                provider.passing_since = None
            return
        settings = self._settings
        if now >= provider.window_end:
            provider.window_end = now + settings.interval
            provider.window_calls = 0
            provider.window_failures = 0
        provider.window_calls += 1
        if ok:
            provider.consecutive = 0
            return
        provider.consecutive += 1
        provider.window_failures += 1
        if provider.consecutive >= settings.consecutive_failures:
            reason = "consecutive-failures"
        elif (
            provider.window_calls >= settings.min_calls
            and provider.window_failures >= settings.failure_rate * provider.window_calls
        ):
            reason = "failure-rate"
        else:
            return
        if self._held_out(now) >= self._limit:
            # Envoy's "ejections overflow": the counts stay, so the next
            # failure asks again once another provider is back.
            return
        provider.level += 1
        seconds = min(settings.base_ejection * provider.level, settings.max_ejection)
        self._eject(provider, until=now + seconds, reason=reason)

    def probe(self, name: str, *, ok: bool, now: float) -> None:
        """The result of one active health probe of ``name`` at ``now``."""
        provider = self._get(name)
        self._settle(provider, now)
        provider.probed = True
        settings = self._settings
        if ok:
            provider.probe_failures = 0
            provider.probe_passes += 1
            if provider.passing_since is None:
                provider.passing_since = now
            if provider.probe_down and provider.probe_passes >= settings.probe_healthy_after:
                provider.probe_down = False
                if provider.status is ProviderStatus.PROBE_DOWN:
                    if self._passed_long_enough(provider, now):
                        self._heal(provider, now, "probe-recovered")
                    else:
                        self._move(provider, ProviderStatus.RECOVERING, "probe-recovered")
        else:
            provider.probe_passes = 0
            provider.probe_failures += 1
            provider.passing_since = None
            if (
                not provider.probe_down
                and provider.probe_failures >= settings.probe_unhealthy_after
            ):
                provider.probe_down = True
                if provider.status in (ProviderStatus.HEALTHY, ProviderStatus.RECOVERING):
                    provider.held_by_ejection = False
                    self._move(provider, ProviderStatus.PROBE_DOWN, "probe-failed")
        self._settle(provider, now)

    # -- operator -------------------------------------------------------------

    def eject(
        self, name: str, now: float, *, seconds: float, reason: str = "ejected-by-operator"
    ) -> None:
        """Take ``name`` out of traffic for ``seconds`` (``math.inf``: until :meth:`restore`).

        The ejection limit does not apply, and the multiplier is untouched.
        Ejecting an ejected provider sets its new end time.
        """
        if not seconds > 0:
            msg = f"an ejection lasts a positive number of seconds, not {seconds}"
            raise ValueError(msg)
        provider = self._get(name)
        self._settle(provider, now)
        self._eject(provider, until=now + seconds, reason=reason)

    def restore(self, name: str, now: float) -> None:
        """Put ``name`` back into traffic now, with a clean slate (operator override)."""
        provider = self._get(name)
        self._settle(provider, now)
        provider.ejected_until = None
        provider.probe_down = False
        provider.probe_passes = 0
        provider.probe_failures = 0
        provider.passing_since = None
        provider.level = 0
        if provider.status is ProviderStatus.HEALTHY:
            provider.reset_counts()
        else:
            self._heal(provider, now, "restored-by-operator")

    # -- internals ------------------------------------------------------------

    def _get(self, name: str) -> _Provider:
        try:
            return self._providers[name]
        except KeyError:
            msg = f"the health board has no provider {name!r}; it has {list(self._providers)}"
            raise KeyError(msg) from None

    def _settle(self, provider: _Provider, now: float) -> ProviderStatus:
        """Apply what the passing of time changed by ``now``; return the status."""
        healthy_for = self._settings.healthy_for
        if provider.status is ProviderStatus.EJECTED:
            until = provider.ejected_until
            if until is None or now < until:
                return provider.status
            provider.ejected_until = None
            if provider.probe_down:
                provider.held_by_ejection = False
                self._move(provider, ProviderStatus.PROBE_DOWN, "ejection-expired")
            elif provider.probed and not self._passed_long_enough(provider, until):
                self._move(provider, ProviderStatus.RECOVERING, "ejection-expired")
            else:
                self._heal(provider, until, "ejection-expired")
        if (
            provider.status is ProviderStatus.RECOVERING
            and provider.passing_since is not None
            and now >= provider.passing_since + healthy_for
        ):
            self._heal(provider, provider.passing_since + healthy_for, "healthy-period-passed")
        if provider.status is ProviderStatus.HEALTHY:
            self._forgive(provider, now)
        return provider.status

    def _passed_long_enough(self, provider: _Provider, at: float) -> bool:
        since = provider.passing_since
        return since is not None and at >= since + self._settings.healthy_for

    def _forgive(self, provider: _Provider, now: float) -> None:
        # One multiplier level per max_ejection seconds of HEALTHY operation.
        if provider.level == 0 or provider.clean_since is None:
            return
        steps = math.floor((now - provider.clean_since) / self._settings.max_ejection)
        if steps > 0:
            provider.level = max(0, provider.level - steps)
            provider.clean_since += steps * self._settings.max_ejection

    def _held_out(self, now: float) -> int:
        held = 0
        for provider in self._providers.values():
            status = self._settle(provider, now)
            if status is ProviderStatus.EJECTED or (
                status is ProviderStatus.RECOVERING and provider.held_by_ejection
            ):
                held += 1
        return held

    def _eject(self, provider: _Provider, *, until: float, reason: str) -> None:
        provider.ejected_until = until
        provider.passing_since = None  # an ejection is a failure: the healthy clock restarts
        provider.held_by_ejection = True
        provider.reset_counts()
        if provider.status is not ProviderStatus.EJECTED:
            self._move(provider, ProviderStatus.EJECTED, reason)

    def _heal(self, provider: _Provider, at: float, reason: str) -> None:
        provider.held_by_ejection = False
        provider.clean_since = at
        provider.reset_counts()
        self._move(provider, ProviderStatus.HEALTHY, reason)

    def _move(self, provider: _Provider, new: ProviderStatus, reason: str) -> None:
        self._transitions.append(HealthTransition(provider.name, provider.status, new, reason))
        self.changed = True
        provider.status = new
