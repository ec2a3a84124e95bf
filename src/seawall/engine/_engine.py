"""The engine: runs one logical call through every policy, over any upstream.

For each call it admits through the bulkhead, picks a provider whose breaker
lets it through, shapes to the rate limit, bounds each attempt by the per-attempt
timeout and the whole call by the deadline, classifies the answer, and decides
from the pure policies whether to try again. It reports what happened as frozen
events to an :class:`~seawall._events.EventSink` and knows nothing of HTTP
servers, Prometheus or SQL.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Callable, Mapping

from seawall._errors import (
    BudgetExhausted,
    BulkheadFull,
    CircuitOpen,
    DeadlineExceeded,
    RateLimited,
    SeawallError,
    UnknownIntegration,
    UpstreamConnectError,
    UpstreamError,
    UpstreamTimeout,
)
from seawall._events import (
    AttemptFinished,
    BreakerChanged,
    CallFinished,
    EventSink,
    NullSink,
    Rejected,
    RetryScheduled,
)
from seawall._states import BreakerState
from seawall._types import Clock, MonotonicClock
from seawall.config import Config
from seawall.engine._messages import Request, Response, Upstream
from seawall.engine._runtime import IntegrationRuntime, ProviderRuntime, build_runtime
from seawall.policies import (
    IDEMPOTENT_METHODS,
    GiveUp,
    Outcome,
    Permit,
    classify_status,
    counts_against_breaker,
    decide_retry,
    parse_retry_after,
)

__all__ = ["Engine"]


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
    ) -> None:
        self._config = config
        self._upstream = upstream
        self._sink: EventSink = sink if sink is not None else NullSink()
        self._quiet = isinstance(self._sink, NullSink)
        self._clock: Clock = clock if clock is not None else MonotonicClock()
        self._rng = rng if rng is not None else random.Random()
        self._wall = wall_clock
        self._integrations: dict[str, IntegrationRuntime] = {
            name: build_runtime(name, spec, config.policy(name))
            for name, spec in config.integrations.items()
        }

    @property
    def config(self) -> Config:
        return self._config

    @property
    def upstream(self) -> Upstream:
        return self._upstream

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
        self._drain(runtime, self._clock.now(), cause="operator")

    def adopt_state(self, old: Engine) -> None:
        """Carry breakers, rate limits and retry budgets over from the engine this
        one replaces, wherever the integration, provider and settings are
        unchanged: a reload must not reopen traffic to a vendor that is down."""
        for name, runtime in self._integrations.items():
            previous = old._integrations.get(name)
            if previous is None or previous.settings != runtime.settings:
                continue
            runtime.budget = previous.budget
            for provider in runtime.providers:
                before = previous.by_name.get(provider.name)
                if before is not None and before.target == provider.target:
                    provider.breaker = before.breaker
                    provider.bucket = before.bucket

    async def aclose(self) -> None:
        await self._upstream.aclose()

    async def call(self, integration: str, request: Request) -> Response:
        """Run ``request`` for ``integration``; a vendor answer or a SeawallError."""
        rt = self.integration(integration)
        settings = rt.settings
        clock = self._clock
        start = clock.now()
        deadline_at = start + settings.deadline
        key = self._idempotency_key(rt, request)
        rt.budget.record_request(start)
        if not await rt.bulkhead.enter(deadline_at - start):
            self._reject(rt, None, "bulkhead-full", start)
            msg = "too many concurrent calls and the wait queue is full or timed out"
            raise BulkheadFull(
                msg, integration=rt.name, retry_after=settings.bulkhead.queue_timeout
            )
        rt.inflight += 1
        attempts = 0
        provider_name: str | None = None
        outcome = "error"
        status: int | None = None
        try:
            response, attempts, provider_name = await self._attempts(rt, request, key, deadline_at)
            status = response.status
            outcome = classify_status(settings.classification, status).value
            response.attempts = attempts
            return response
        except SeawallError as exc:
            outcome = exc.reason
            attempts = exc.attempts
            provider_name = exc.provider
            raise
        except asyncio.CancelledError:
            outcome = "cancelled"
            raise
        finally:
            rt.inflight -= 1
            rt.bulkhead.leave()
            if not self._quiet:
                self._sink.emit(
                    CallFinished(
                        at=clock.now(),
                        integration=rt.name,
                        provider=provider_name,
                        method=request.method,
                        outcome=outcome,
                        status=status,
                        attempts=attempts,
                        duration=clock.now() - start,
                        idempotency_key=key,
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

    def _choose(
        self, rt: IntegrationRuntime, now: float, skip: ProviderRuntime | None
    ) -> tuple[ProviderRuntime, Permit | None]:
        """The first provider (after ``skip``, wrapping) whose breaker admits the call."""
        providers = rt.providers
        start = 0
        if skip is not None and len(providers) > 1:
            start = (providers.index(skip) + 1) % len(providers)
        soonest: float | None = None
        for offset in range(len(providers)):
            provider = providers[(start + offset) % len(providers)]
            breaker = provider.breaker
            if breaker is None:
                return provider, None
            decision = breaker.acquire(now)
            self._drain(provider, now)
            if isinstance(decision, Permit):
                return provider, decision
            if decision.retry_after is not None:
                soonest = (
                    decision.retry_after if soonest is None else min(soonest, decision.retry_after)
                )
        self._reject(
            rt, providers[start].name if len(providers) == 1 else None, "circuit-open", now
        )
        msg = "every provider's circuit breaker is open"
        raise CircuitOpen(
            msg,
            integration=rt.name,
            provider=providers[0].name if len(providers) == 1 else None,
            retry_after=soonest,
        )

    async def _attempts(
        self, rt: IntegrationRuntime, request: Request, key: str | None, deadline_at: float
    ) -> tuple[Response, int, str]:
        settings = rt.settings
        clock = self._clock
        upstream = self._upstream
        attempt = 0
        last: ProviderRuntime | None = None
        while True:
            now = clock.now()
            try:
                provider, permit = self._choose(rt, now, last)
            except CircuitOpen as exc:
                exc.attempts = attempt
                raise
            if provider.bucket is not None:
                wait = provider.bucket.reserve(now, max_wait=deadline_at - now)
                if wait is None:
                    self._release(provider, permit)
                    self._reject(rt, provider.name, "rate-limited", now)
                    msg = "the rate limit cannot admit the call before its deadline"
                    raise RateLimited(
                        msg,
                        integration=rt.name,
                        provider=provider.name,
                        attempts=attempt,
                        retry_after=1.0 / provider.bucket.settings.rate,
                    )
                if wait > 0:
                    await asyncio.sleep(wait)
                    now = clock.now()
            remaining = deadline_at - now
            if remaining <= 0:
                self._release(provider, permit)
                msg = f"the {settings.deadline:g}s deadline ran out"
                raise DeadlineExceeded(
                    msg, integration=rt.name, provider=provider.name, attempts=attempt
                )
            timeout = settings.timeout if settings.timeout < remaining else remaining
            attempt += 1
            response: Response | None = None
            error: UpstreamError | None = None
            try:
                async with asyncio.timeout(timeout):
                    response = await upstream.send(provider.target, request, timeout=timeout)
                result = classify_status(settings.classification, response.status)
            except TimeoutError:
                error = UpstreamTimeout(
                    f"no answer within {timeout:.3g}s",
                    integration=rt.name,
                    provider=provider.name,
                    attempts=attempt,
                )
                result = Outcome.TIMEOUT
            except UpstreamTimeout as exc:
                error = exc
                result = Outcome.TIMEOUT
            except UpstreamConnectError as exc:
                error = exc
                result = Outcome.CONNECT_ERROR
            except BaseException:
                self._release(provider, permit)
                raise
            finished = clock.now()
            duration = finished - now
            if permit is not None and provider.breaker is not None:
                if result is Outcome.THROTTLED:
                    provider.breaker.release(permit)
                else:
                    provider.breaker.record(
                        permit, finished, failure=counts_against_breaker(result), duration=duration
                    )
                self._drain(provider, finished)
            status = response.status if response is not None else None
            if not self._quiet:
                self._sink.emit(
                    AttemptFinished(
                        at=finished,
                        integration=rt.name,
                        provider=provider.name,
                        attempt=attempt,
                        outcome=result.value,
                        status=status,
                        duration=duration,
                    )
                )
            if response is not None and (
                result is Outcome.SUCCESS
                or (result is Outcome.FINAL and response.status not in settings.retry.on)
            ):
                response.provider = provider.name
                return response, attempt, provider.name
            retry_after: float | None = None
            if response is not None:
                retry_after = parse_retry_after(_header_map(response), wall_now=self._wall())
            safe = key is not None or (isinstance(error, UpstreamConnectError) and not error.sent)
            if retry_after is not None and retry_after > settings.max_retry_after:
                decision: GiveUp | object = GiveUp("retry-after-too-long")
            else:
                decision = decide_retry(
                    settings.retry,
                    attempt=attempt,
                    outcome=result,
                    status=status,
                    method=request.method,
                    has_idempotency_key=safe,
                    retry_after=retry_after,
                    deadline_remaining=deadline_at - finished,
                    budget_ok=True,
                    rng=self._rng,
                )
                if not isinstance(decision, GiveUp) and not rt.budget.try_withdraw(finished):
                    decision = GiveUp("budget")
            if isinstance(decision, GiveUp):
                return self._give_up(
                    rt,
                    provider=provider,
                    attempt=attempt,
                    response=response,
                    error=error,
                    reason=decision.reason,
                    retry_after=retry_after,
                )
            delay: float = decision.delay  # type: ignore[attr-defined]
            if not self._quiet:
                self._sink.emit(
                    RetryScheduled(
                        at=finished,
                        integration=rt.name,
                        provider=provider.name,
                        attempt=attempt,
                        delay=delay,
                        cause=result.value,
                    )
                )
            if delay > 0:
                await asyncio.sleep(delay)
            last = provider

    def _give_up(
        self,
        rt: IntegrationRuntime,
        *,
        provider: ProviderRuntime,
        attempt: int,
        response: Response | None,
        error: UpstreamError | None,
        reason: str,
        retry_after: float | None,
    ) -> tuple[Response, int, str]:
        """No more attempts: the vendor's last answer stands, or its failure is raised."""
        if response is not None:
            response.provider = provider.name
            return response, attempt, provider.name
        assert error is not None
        error.integration = rt.name
        error.provider = provider.name
        error.attempts = attempt
        if retry_after is not None:
            error.retry_after = retry_after
        if reason == "budget":
            msg = f"retry budget exhausted after: {error.message}"
            raise BudgetExhausted(
                msg, integration=rt.name, provider=provider.name, attempts=attempt
            ) from error
        if reason in ("deadline", "retry-after-too-long"):
            deadline = rt.settings.deadline
            msg = f"the {deadline:g}s deadline leaves no time to retry after: {error.message}"
            raise DeadlineExceeded(
                msg, integration=rt.name, provider=provider.name, attempts=attempt
            ) from error
        raise error

    def _release(self, provider: ProviderRuntime, permit: Permit | None) -> None:
        if permit is not None and provider.breaker is not None:
            provider.breaker.release(permit)

    def _drain(self, provider: ProviderRuntime, now: float, cause: str = "") -> None:
        breaker = provider.breaker
        if breaker is None:
            return
        transitions = breaker.drain_transitions()
        if transitions and not self._quiet:
            for transition in transitions:
                self._sink.emit(
                    BreakerChanged(
                        at=now,
                        integration=provider.target.integration,
                        provider=provider.name,
                        old=transition.old,
                        new=transition.new,
                        cause=cause or transition.cause,
                    )
                )

    def _reject(
        self, rt: IntegrationRuntime, provider: str | None, reason: str, now: float
    ) -> None:
        if not self._quiet:
            self._sink.emit(Rejected(at=now, integration=rt.name, provider=provider, reason=reason))


def _header_map(response: Response) -> dict[str, str]:
    return {k.lower(): v for k, v in response.headers}
