"""The engine: runs one logical call through every policy, over any upstream.

For each call it admits through the bulkhead, runs the attempts (routing,
breakers, rate limits, timeouts, retries -- see ``_attempts``), and when no
provider can serve falls back to a cached answer, a static one, or the durable
outbox. It reports what happened as frozen events to an
:class:`~seawall._events.EventSink` and knows nothing of HTTP servers,
Prometheus or SQL.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path

from seawall._errors import BulkheadFull, SeawallError, UnknownIntegration
from seawall._events import (
    CallFinished,
    Event,
    EventSink,
    FallbackServed,
    MaintenanceChanged,
    NullSink,
    Rejected,
)
from seawall._states import BreakerState
from seawall._types import Clock, MonotonicClock
from seawall.config import Config, FallbackCached, FallbackQueue, FallbackStatic
from seawall.engine._attempts import CallState, drain_breaker, drain_health, run_attempts
from seawall.engine._fallback import Outbox, static_response
from seawall.engine._messages import Request, Response, Upstream
from seawall.engine._runtime import IntegrationRuntime, build_runtime
from seawall.policies import IDEMPOTENT_METHODS, Outcome
from seawall.routing import ActiveWindow

__all__ = ["Engine"]

#: refusals after which a fallback may answer instead (nothing reached a vendor)
_FALLBACK_ON = frozenset(
    {
        "circuit-open",
        "rate-limited",
        "bulkhead-full",
        "retry-budget-exhausted",
        "deadline-exceeded",
        "no-provider",
        "upstream-timeout",
        "upstream-connect-error",
        "egress-denied",
    }
)

#: read on every call: as module constants, since on Python 3.11 ``Outcome.X`` passes
#: through EnumType's ``__getattr__`` hook (about 45 ns a read)
_SUCCESS, _FAILURE, _THROTTLED = Outcome.SUCCESS, Outcome.FAILURE, Outcome.THROTTLED


class Engine:
    """Runs calls for every integration of one configuration.

    One engine is shared by all calls of a process (the in-process transport or
    the gateway), so breakers, budgets and limits see all the traffic.
    """

    def __init__(
        self,
        config: Config,
        *,
        upstream: Upstream,
        sink: EventSink | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        wall_clock: Callable[[], float] = time.time,
        outbox: Outbox | None = None,
    ) -> None:
        self._config = config
        self._upstream = upstream
        #: the upstream ends each attempt within its timeout itself (no timer here)
        self._bounded = getattr(upstream, "bounds_attempts", False) is True
        self._sink: EventSink = sink if sink is not None else NullSink()
        self._emit: Callable[[Event], None] | None = (
            None if isinstance(self._sink, NullSink) else self._sink.emit
        )
        self._clock: Clock = clock if clock is not None else MonotonicClock()
        self._rng = rng if rng is not None else random.Random()
        self._wall = wall_clock
        self.outbox = outbox
        root = Path(config.origin).parent if config.origin else None
        self._integrations: dict[str, IntegrationRuntime] = {
            name: build_runtime(name, spec, config.policy(name), rng=self._rng, adapter_root=root)
            for name, spec in config.integrations.items()
        }

    @property
    def config(self) -> Config:
        return self._config

    @property
    def upstream(self) -> Upstream:
        return self._upstream

    @property
    def clock(self) -> Clock:
        return self._clock

    def integration(self, name: str) -> IntegrationRuntime:
        try:
            return self._integrations[name]
        except KeyError:
            known = ", ".join(sorted(self._integrations)) or "none"
            msg = f"no integration named '{name}' (configured: {known})"
            raise UnknownIntegration(msg, integration=name) from None

    @property
    def integrations(self) -> Mapping[str, IntegrationRuntime]:
        return self._integrations

    # -- operator actions and observation -------------------------------------------------

    def breaker_state(self, integration: str, provider: str) -> BreakerState:
        runtime = self.integration(integration).by_name[provider]
        if runtime.breaker is None:
            return BreakerState.DISABLED
        return runtime.breaker.state(self._clock.now())

    def set_breaker(self, integration: str, provider: str, state: BreakerState) -> None:
        """Operator action: force a breaker open, close it, or disable it."""
        runtime = self.integration(integration).by_name[provider]
        breaker = runtime.breaker
        if breaker is None:
            return
        if state is BreakerState.FORCED_OPEN:
            breaker.force_open()
        elif state is BreakerState.DISABLED:
            breaker.disable()
        elif state is BreakerState.CLOSED:
            breaker.close()
        else:
            msg = f"a breaker can be forced to forced_open, disabled or closed, not {state.value}"
            raise ValueError(msg)
        drain_breaker(runtime, self._clock.now(), self._emit, cause="operator")

    def start_maintenance(
        self, integration: str, provider: str, *, duration: float | None, reason: str = "operator"
    ) -> str:
        """Operator action: take a provider out for maintenance now."""
        rt = self.integration(integration)
        rt.by_name[provider]
        window = rt.calendar.start_now(provider, self._wall(), duration=duration, reason=reason)
        self.observe()
        return window

    def stop_maintenance(self, integration: str, provider: str) -> None:
        rt = self.integration(integration)
        rt.calendar.stop(provider, self._wall())
        self.observe()

    def maintenance(self, integration: str, provider: str) -> ActiveWindow | None:
        return self.integration(integration).calendar.active(provider, self._wall())

    def record_probe(self, integration: str, provider: str, *, ok: bool) -> None:
        """An active health probe's result, from the probe scheduler."""
        rt = self.integration(integration)
        now = self._clock.now()
        rt.board.probe(provider, ok=ok, now=now)
        drain_health(rt, now, self._emit)

    def current_provider(self, integration: str) -> str | None:
        """The provider the next call would try first (without consuming a pick)."""
        rt = self.integration(integration)
        now, wall = self._clock.now(), self._wall()
        available = rt.board.available(now) - rt.calendar.unavailable(wall)
        for provider in rt.providers:
            if provider.name in available and self.breaker_state(integration, provider.name) in (
                BreakerState.CLOSED,
                BreakerState.HALF_OPEN,
                BreakerState.DISABLED,
            ):
                return provider.name
        return None

    def observe(self) -> None:
        """Report health and maintenance changes that happen as time passes."""
        now, wall = self._clock.now(), self._wall()
        for rt in self._integrations.values():
            rt.board.available(now)
            drain_health(rt, now, self._emit)
            down = rt.calendar.unavailable(wall)
            if down == rt.down:
                continue
            if self._emit is not None:
                for provider in sorted(down ^ rt.down):
                    active = rt.calendar.active(provider, wall)
                    self._emit(
                        MaintenanceChanged(
                            at=now,
                            wall=wall,
                            integration=rt.name,
                            provider=provider,
                            phase=active.phase if active else "closed",
                            planned=True,
                            reason=active.reason if active else "",
                        )
                    )
            rt.down = down

    def adopt_state(self, old: Engine) -> None:
        """Carry breakers, health, rate limits and retry budgets over from the engine
        this one replaces, wherever the integration, provider and settings are
        unchanged: a reload must not reopen traffic to a vendor that is down."""
        for name, runtime in self._integrations.items():
            previous = old._integrations.get(name)
            if previous is None or previous.settings != runtime.settings:
                continue
            runtime.budget = previous.budget
            if [p.name for p in previous.providers] == [p.name for p in runtime.providers]:
                runtime.board = previous.board
                runtime.cache = previous.cache or runtime.cache
            if runtime.spec.maintenance == previous.spec.maintenance:
                # manual windows started by an operator survive a reload
                runtime.calendar = previous.calendar
                runtime.down = previous.down
            for provider in runtime.providers:
                before = previous.by_name.get(provider.name)
                if before is not None and before.target == provider.target:
                    provider.breaker = before.breaker
                    provider.bucket = before.bucket

    async def aclose(self) -> None:
        await self._upstream.aclose()

    # -- calls ----------------------------------------------------------------------------

    async def call(self, integration: str, request: Request, *, fallback: bool = True) -> Response:
        """Run ``request`` for ``integration``: a vendor answer, a fallback, or a SeawallError."""
        rt = self._integrations.get(integration) or self.integration(integration)
        settings = rt.settings
        clock = self._clock
        start = clock.now()
        key = self._idempotency_key(rt, request) if rt.idempotency_header is not None else None
        rt.budget.record_request(start)
        state = CallState()
        outcome = "error"
        status: int | None = None
        admission = rt.bulkhead.try_enter()  # a free slot costs no coroutine
        if admission != "enter" and (
            admission == "reject" or not await rt.bulkhead.wait(settings.deadline)
        ):
            if self._emit is not None:
                self._emit(
                    Rejected(at=start, integration=rt.name, provider=None, reason="bulkhead-full")
                )
            msg = "too many concurrent calls and the wait queue is full or timed out"
            error = BulkheadFull(
                msg, integration=rt.name, retry_after=settings.bulkhead.queue_timeout
            )
            served = (
                await self._fallback(rt, request, key, state, error.reason) if fallback else None
            )
            if served is None:
                raise error
            return served
        try:
            try:
                response = await run_attempts(
                    rt,
                    request,
                    key,
                    start + settings.deadline,
                    state,
                    upstream=self._upstream,
                    clock=clock,
                    wall=self._wall,
                    rng=self._rng,
                    emit=self._emit,
                    bounded=self._bounded,
                )
            except SeawallError as exc:
                outcome = exc.reason
                served = (
                    await self._fallback(rt, request, key, state, exc.reason) if fallback else None
                )
                if served is None:
                    raise
                outcome, status = f"fallback-{exc.reason}", served.status
                return served
            result = state.outcome
            if result is _SUCCESS and rt.cache is not None and response.stream is None:
                rt.cache.store(request, response, clock.now())
            elif fallback and (result is _FAILURE or result is _THROTTLED):
                served = await self._fallback(rt, request, key, state, f"status-{response.status}")
                if served is not None:
                    await response.discard()
                    outcome, status = f"fallback-status-{response.status}", served.status
                    return served
            response.attempts = state.attempts
            outcome, status = result._value_, response.status  # ._value_: see Outcome
            return response
        except asyncio.CancelledError:
            outcome = "cancelled"
            raise
        finally:
            if rt.bulkhead.leave():  # the slot went to the oldest waiter
                rt.bulkhead.wake()
            if self._emit is not None:
                end = clock.now()
                # Positional, in field order: a named tuple parses keywords at twice the cost.
                self._emit(
                    CallFinished(
                        end,  # at
                        rt.name,  # integration
                        state.provider,  # provider
                        request.method,  # method
                        outcome,  # outcome
                        status,  # status
                        state.attempts,  # attempts
                        end - start,  # duration
                        key,  # idempotency_key
                    )
                )

    def _idempotency_key(self, rt: IntegrationRuntime, request: Request) -> str | None:
        header = rt.idempotency_header
        if header is None:
            return None
        key = request.header(header)
        if key is None and rt.generate_idempotency and request.method not in IDEMPOTENT_METHODS:
            # One key for every retry and failover of this call, so a vendor that
            # honours it charges once however often seawall has to resend.
            key = uuid.uuid4().hex
            request.headers.append((header, key))
        return key

    async def _fallback(
        self,
        rt: IntegrationRuntime,
        request: Request,
        key: str | None,
        state: CallState,
        cause: str,
    ) -> Response | None:
        """The integration's fallback, unless the call may already have taken effect."""
        spec = rt.spec.fallback
        if state.maybe_effect and request.method not in IDEMPOTENT_METHODS:
            return None  # a write that may have happened is never answered for the vendor
        if not (cause in _FALLBACK_ON or cause.startswith("status-")):
            return None
        served: Response | None = None
        reference = ""
        if isinstance(spec, FallbackCached) and rt.cache is not None:
            served = rt.cache.lookup(request, self._clock.now(), spec.max_age)
        elif isinstance(spec, FallbackStatic):
            served = static_response(spec.status, spec.body, spec.headers)
        elif (
            isinstance(spec, FallbackQueue)
            and self.outbox is not None
            and request.method not in ("GET", "HEAD", "OPTIONS")
        ):
            if key is None:
                key = uuid.uuid4().hex
                request.headers.append((rt.idempotency_header or "Idempotency-Key", key))
            reference = await self.outbox.enqueue(
                rt.name, request, order_key=_order_key(spec, request), idempotency_key=key
            )
            body = {"queued": reference, "integration": rt.name, "reason": cause}
            served = Response(
                status=202,
                headers=[("Content-Type", "application/json"), ("X-Seawall-Queued", reference)],
                body=json.dumps(body).encode(),
                provider="outbox",
            )
        if served is None:
            return None
        served.attempts = state.attempts
        served.headers.append(("X-Seawall-Fallback", spec.type))
        if self._emit is not None:
            self._emit(
                FallbackServed(
                    at=self._clock.now(),
                    integration=rt.name,
                    kind=spec.type,
                    cause=cause,
                    reference=reference,
                )
            )
        return served


def _order_key(spec: FallbackQueue, request: Request) -> str:
    """The order key from the JSON body at ``spec.key``; the integration-wide queue otherwise."""
    if spec.key is None:
        return ""
    try:
        from jsonpath_ng.ext import parse  # type: ignore[attr-defined]

        document = json.loads(request.body)
        matches = parse(spec.key).find(document)
    except Exception:  # noqa: BLE001 - a body that is not JSON simply has no key
        return ""
    return str(matches[0].value) if matches else ""
