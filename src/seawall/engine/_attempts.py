"""The attempts of one call: pick a provider, shape, send, classify, decide.

Providers are tried in the routing strategy's order -- healthy and not in
maintenance first -- each behind its breaker and rate limit. A retryable
failure moves the next attempt to the next provider in that order, within the
same deadline, when the call is safe to repeat (idempotent method or
idempotency key): that is failover.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from seawall._errors import (
    BudgetExhausted,
    CircuitOpen,
    DeadlineExceeded,
    NoProvider,
    RateLimited,
    SeawallError,
    UpstreamConnectError,
    UpstreamError,
    UpstreamTimeout,
)
from seawall._events import (
    AttemptFinished,
    BreakerChanged,
    Event,
    FailedOver,
    ProviderHealthChanged,
    Rejected,
    RetryScheduled,
)
from seawall._states import BreakerState
from seawall._types import Clock
from seawall.engine._fallback import NOT_PROCESSED
from seawall.engine._messages import Request, Response, Upstream
from seawall.engine._runtime import IntegrationRuntime, ProviderRuntime
from seawall.engine._within import within
from seawall.policies import (
    GiveUp,
    Outcome,
    Permit,
    RetryDecision,
    classify_status,
    counts_against_breaker,
    decide_retry,
    parse_retry_after,
)

__all__ = ["CallState", "Emit", "run_attempts"]

_ADMITTING = frozenset({BreakerState.CLOSED, BreakerState.HALF_OPEN, BreakerState.DISABLED})

#: read on every call: as module constants, since on Python 3.11 ``Outcome.X`` passes
#: through EnumType's ``__getattr__`` hook (about 45 ns a read)
_SUCCESS, _FINAL, _THROTTLED = Outcome.SUCCESS, Outcome.FINAL, Outcome.THROTTLED

Emit = Callable[[Event], None]


@dataclass(slots=True)
class CallState:
    """What the attempts of one call did, for the caller and for fallbacks."""

    attempts: int = 0
    provider: str | None = None
    #: a request reached a vendor and its fate is unknown (it may have taken effect)
    maybe_effect: bool = False
    #: how the returned answer was classified
    outcome: Outcome = Outcome.SUCCESS


def drain_breaker(
    provider: ProviderRuntime, now: float, emit: Emit | None, cause: str = ""
) -> None:
    breaker = provider.breaker
    if breaker is None or not breaker.changed:
        return
    transitions = breaker.drain_transitions()
    if transitions and emit is not None:
        for transition in transitions:
            emit(
                BreakerChanged(
                    at=now,
                    integration=provider.target.integration,
                    provider=provider.name,
                    old=transition.old,
                    new=transition.new,
                    cause=cause or transition.cause,
                )
            )


def drain_health(rt: IntegrationRuntime, now: float, emit: Emit | None) -> None:
    if not rt.board.changed:
        return
    transitions = rt.board.drain_transitions()
    if transitions and emit is not None:
        for t in transitions:
            emit(
                ProviderHealthChanged(
                    at=now,
                    integration=rt.name,
                    provider=t.name,
                    old=t.old.value,
                    new=t.new.value,
                    reason=t.reason,
                )
            )


def _release(provider: ProviderRuntime, permit: Permit | None) -> None:
    if permit is not None and provider.breaker is not None:
        provider.breaker.release(permit)


def _candidates(
    rt: IntegrationRuntime, now: float, wall: Callable[[], float]
) -> Sequence[ProviderRuntime]:
    """Providers to try, best first: healthy and not in maintenance, else all (panic mode)."""
    down = rt.calendar.unavailable(wall()) if rt.spec.maintenance or rt.down else frozenset()
    available = rt.board.available(now) - down
    order = rt.strategy.order(available, now)
    preferred = [rt.by_name[name] for name in order if name in available]
    return preferred or [rt.by_name[name] for name in order]


async def run_attempts(
    rt: IntegrationRuntime,
    request: Request,
    key: str | None,
    deadline_at: float,
    state: CallState,
    *,
    upstream: Upstream,
    clock: Clock,
    wall: Callable[[], float],
    rng: random.Random,
    emit: Emit | None,
    bounded: bool = False,
) -> Response:
    """Attempts until an answer stands or no retry may follow.

    ``bounded`` says the upstream ends each attempt within its timeout itself
    (``Upstream.bounds_attempts``); otherwise a timer here does.
    """
    settings = rt.settings
    now = clock.now()
    candidates = rt.lone or _candidates(rt, now, wall)
    index = 0
    previous: ProviderRuntime | None = None
    cause = ""
    while True:
        provider, permit, index = _admit(rt, candidates, index, now, state, emit)
        if previous is not None and provider is not previous:
            rt.failovers += 1
            if emit is not None:
                emit(
                    FailedOver(
                        at=now,
                        integration=rt.name,
                        source=previous.name,
                        target=provider.name,
                        cause=cause,
                    )
                )
        if provider.bucket is not None:
            wait = provider.bucket.reserve(now, max_wait=deadline_at - now)
            if wait is None:
                _release(provider, permit)
                if emit is not None:
                    emit(
                        Rejected(
                            at=now,
                            integration=rt.name,
                            provider=provider.name,
                            reason="rate-limited",
                        )
                    )
                msg = "the rate limit cannot admit the call before its deadline"
                raise RateLimited(
                    msg,
                    integration=rt.name,
                    provider=provider.name,
                    attempts=state.attempts,
                    retry_after=1.0 / provider.bucket.settings.rate,
                )
            if wait > 0:
                await asyncio.sleep(wait)
                now = clock.now()
        remaining = deadline_at - now
        if remaining <= 0:
            _release(provider, permit)
            msg = f"the {settings.deadline:g}s deadline ran out"
            raise DeadlineExceeded(
                msg, integration=rt.name, provider=provider.name, attempts=state.attempts
            )
        try:
            outbound = provider.adapter.to_provider(request) if provider.adapter else request
        except ValueError as exc:
            # This provider's dialect cannot express the call: try the next one.
            _release(provider, permit)
            candidates = [c for c in candidates if c is not provider]
            if not candidates:
                msg = f"no provider can take this call: {exc}"
                raise NoProvider(
                    msg, integration=rt.name, provider=provider.name, attempts=state.attempts
                ) from exc
            index = 0
            continue
        timeout = settings.timeout if settings.timeout < remaining else remaining
        state.attempts += 1
        state.provider = provider.name
        response: Response | None = None
        status: int | None = None
        error: UpstreamError | None = None
        if rt.latency_aware:
            rt.strategy.start(provider.name)
        try:
            if bounded:
                response = await upstream.send(provider.target, outbound, timeout=timeout)
            else:
                response = await within(
                    timeout, upstream.send(provider.target, outbound, timeout=timeout)
                )
            status = response.status
            result = rt.outcomes.get(status) or classify_status(settings.classification, status)
        except TimeoutError:
            error = UpstreamTimeout(f"no answer within {timeout:.3g}s", provider=provider.name)
            result = Outcome.TIMEOUT
        except UpstreamTimeout as exc:
            error = exc
            result = Outcome.TIMEOUT
        except UpstreamConnectError as exc:
            error = exc
            result = Outcome.CONNECT_ERROR
        except SeawallError as exc:  # the egress guard refused the address
            if rt.latency_aware:
                rt.strategy.finish(provider.name, clock.now() - now, clock.now(), ok=False)
            _release(provider, permit)
            exc.integration, exc.provider, exc.attempts = rt.name, provider.name, state.attempts
            raise
        except BaseException:
            if rt.latency_aware:
                rt.strategy.finish(provider.name, clock.now() - now, clock.now(), ok=False)
            _release(provider, permit)
            raise
        finished = clock.now()
        duration = finished - now
        vendor_fault = result is not _SUCCESS and counts_against_breaker(result)
        if rt.latency_aware:
            rt.strategy.finish(provider.name, duration, finished, ok=not vendor_fault)
        if result is not _THROTTLED:
            rt.board.record(provider.name, ok=not vendor_fault, now=finished)
            if rt.board.changed:
                drain_health(rt, finished, emit)
        if permit is not None and provider.breaker is not None:
            if result is _THROTTLED:
                provider.breaker.release(permit)
            else:
                provider.breaker.record(permit, finished, failure=vendor_fault, duration=duration)
            if provider.breaker.changed:
                drain_breaker(provider, finished, emit)
        if error is not None:
            state.maybe_effect = state.maybe_effect or not (
                isinstance(error, UpstreamConnectError) and not error.sent
            )
        elif status is not None and status >= 500 and status not in NOT_PROCESSED:
            state.maybe_effect = True
        if emit is not None:
            # Positional, in field order: a named tuple parses keywords at twice the cost.
            emit(
                AttemptFinished(
                    finished,  # at
                    rt.name,  # integration
                    provider.name,  # provider
                    state.attempts,  # attempt
                    result._value_,  # outcome (._value_: see Outcome)
                    status,  # status
                    duration,  # duration
                )
            )
        if response is not None and provider.adapter is not None:
            await response.read_all()  # an adapter translates whole bodies
            response = provider.adapter.from_provider(response, request)
        if response is not None and (
            result is _SUCCESS or (result is _FINAL and response.status not in settings.retry.on)
        ):
            response.provider = provider.name
            state.outcome = result
            return response
        retry_after: float | None = None
        if response is not None:
            await response.discard()  # this answer will not be returned: free its connection
            retry_after = parse_retry_after(
                {k.lower(): v for k, v in response.headers}, wall_now=wall()
            )
        safe = key is not None or (isinstance(error, UpstreamConnectError) and not error.sent)
        if retry_after is not None and retry_after > settings.max_retry_after:
            decision: RetryDecision = GiveUp("retry-after-too-long")
        else:
            decision = decide_retry(
                settings.retry,
                attempt=state.attempts,
                outcome=result,
                status=status,
                method=request.method,
                has_idempotency_key=safe,
                retry_after=retry_after,
                deadline_remaining=deadline_at - finished,
                budget_ok=True,
                rng=rng,
            )
            if not isinstance(decision, GiveUp) and not rt.budget.try_withdraw(finished):
                decision = GiveUp("budget")
        if isinstance(decision, GiveUp):
            state.outcome = result
            return _give_up(
                rt,
                provider,
                state=state,
                response=response,
                error=error,
                reason=decision.reason,
                retry_after=retry_after,
            )
        delay = decision.delay
        index = (candidates.index(provider) + 1) % len(candidates)
        if _ready(candidates[index], provider, finished):
            # Backoff protects the provider that failed; a different, ready provider
            # can take the retry at once, so failover costs one round trip.
            delay = 0.0
        if emit is not None:
            emit(
                RetryScheduled(
                    at=finished,
                    integration=rt.name,
                    provider=provider.name,
                    attempt=state.attempts,
                    delay=delay,
                    cause=result.value,
                )
            )
        if delay > 0:
            await asyncio.sleep(delay)
        previous = provider
        cause = result.value
        now = clock.now()


def _ready(candidate: ProviderRuntime, failed: ProviderRuntime, now: float) -> bool:
    """Whether ``candidate`` is another provider whose breaker would admit a call now."""
    if candidate is failed:
        return False
    breaker = candidate.breaker
    return breaker is None or breaker.state(now) in _ADMITTING


def _admit(  # noqa: PLR0917 - positional: called on every attempt
    rt: IntegrationRuntime,
    candidates: Sequence[ProviderRuntime],
    index: int,
    now: float,
    state: CallState,
    emit: Emit | None,
) -> tuple[ProviderRuntime, Permit | None, int]:
    """The first candidate from ``index`` on (wrapping) whose breaker admits the call."""
    soonest: float | None = None
    count = len(candidates)
    position = index
    for _ in candidates:  # each once, from index on, wrapping (no range object per call)
        provider = candidates[position]
        breaker = provider.breaker
        if breaker is None:
            return provider, None, position
        decision = breaker.acquire(now)
        if breaker.changed:
            drain_breaker(provider, now, emit)
        if isinstance(decision, Permit):
            return provider, decision, position
        if decision.retry_after is not None:
            soonest = (
                decision.retry_after if soonest is None else min(soonest, decision.retry_after)
            )
        position = position + 1 if position + 1 < count else 0
    single = candidates[0].name if count == 1 else None
    if emit is not None:
        emit(Rejected(at=now, integration=rt.name, provider=single, reason="circuit-open"))
    msg = "every provider's circuit breaker is open"
    raise CircuitOpen(
        msg, integration=rt.name, provider=single, attempts=state.attempts, retry_after=soonest
    )


def _give_up(
    rt: IntegrationRuntime,
    provider: ProviderRuntime,
    *,
    state: CallState,
    response: Response | None,
    error: UpstreamError | None,
    reason: str,
    retry_after: float | None,
) -> Response:
    """No more attempts: the vendor's last answer stands, or its failure is raised."""
    if response is not None:
        response.provider = provider.name
        return response
    assert error is not None
    error.integration = rt.name
    error.provider = provider.name
    error.attempts = state.attempts
    if retry_after is not None:
        error.retry_after = retry_after
    if reason == "budget":
        msg = f"retry budget exhausted after: {error.message}"
        raise BudgetExhausted(
            msg, integration=rt.name, provider=provider.name, attempts=state.attempts
        ) from error
    if reason in ("deadline", "retry-after-too-long"):
        deadline = rt.settings.deadline
        msg = f"the {deadline:g}s deadline leaves no time to retry after: {error.message}"
        raise DeadlineExceeded(
            msg, integration=rt.name, provider=provider.name, attempts=state.attempts
        ) from error
    raise error
