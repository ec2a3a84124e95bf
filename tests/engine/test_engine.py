"""The engine's behaviour over a mock upstream: retries, idempotency, breakers, limits."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from seawall import (
    BudgetExhausted,
    BulkheadFull,
    CircuitOpen,
    DeadlineExceeded,
    RateLimited,
    UnknownIntegration,
    UpstreamConnectError,
    UpstreamTimeout,
)
from seawall._events import AttemptFinished, BreakerChanged, CallFinished, Rejected, RetryScheduled
from seawall._states import BreakerState
from seawall._types import ManualClock
from seawall.engine import Request
from tests.engine.conftest import make_engine

FAST_RETRY = """
version: 1
defaults:
  policy:
    timeout: 200ms
    deadline: 2s
    retry: {{attempts: 3, backoff: {{initial: 1ms, max: 5ms}}}}
integrations:
  pay:
    providers:
      - {{name: first, base_url: "http://first.test"}}
      - {{name: second, role: backup, base_url: "http://second.test"}}
    idempotency: {{generate: {generate}}}
{extra}
"""


def cfg(*, generate: bool = True, extra: str = "") -> str:
    return FAST_RETRY.format(generate=str(generate).lower(), extra=extra)


async def test_retry_moves_to_backup_with_the_same_idempotency_key() -> None:
    """A 503 is retried on the next provider, with the generated key kept."""
    seen: list[tuple[str, str | None]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.url.host, request.headers.get("Idempotency-Key")))
        return httpx.Response(503 if request.url.host == "first.test" else 201)

    engine, sink = make_engine(cfg(), handler)
    response = await engine.call("pay", Request("POST", "/v1/charges", body=b"amount=5"))
    assert response.status == 201
    assert response.provider == "second"
    assert response.attempts == 2
    assert [host for host, _ in seen] == ["first.test", "second.test"]
    assert seen[0][1] is not None
    assert seen[0][1] == seen[1][1]
    assert [e.outcome for e in sink.of(AttemptFinished)] == ["failure", "success"]
    assert len(sink.of(RetryScheduled)) == 1
    finished = sink.of(CallFinished)
    assert [(f.outcome, f.attempts, f.provider) for f in finished] == [("success", 2, "second")]


async def test_every_field_of_the_attempt_and_call_events() -> None:
    """The per-call events carry each value in its own field (they are built positionally)."""
    clock = ManualClock(100.0)

    def handler(request: httpx.Request) -> httpx.Response:
        clock.advance(0.25)
        return httpx.Response(503 if request.url.host == "first.test" else 201)

    engine, sink = make_engine(cfg(), handler, clock=clock)
    await engine.call("pay", Request("POST", "/v1/charges", body=b"amount=5"))
    first, second = sink.of(AttemptFinished)
    assert first == AttemptFinished(
        at=100.25,
        integration="pay",
        provider="first",
        attempt=1,
        outcome="failure",
        status=503,
        duration=0.25,
    )
    assert (second.provider, second.attempt, second.outcome, second.status) == (
        "second",
        2,
        "success",
        201,
    )
    [call] = sink.of(CallFinished)
    key = call.idempotency_key
    assert key is not None
    assert call == CallFinished(
        at=100.5,
        integration="pay",
        provider="second",
        method="POST",
        outcome="success",
        status=201,
        attempts=2,
        duration=0.5,
        idempotency_key=key,
    )


async def test_caller_key_is_kept_and_get_gets_none() -> None:
    """A caller's own key is forwarded unchanged; idempotent methods get no key."""
    keys: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        keys.append(request.headers.get("Idempotency-Key"))
        return httpx.Response(200)

    engine, _ = make_engine(cfg(), handler)
    await engine.call("pay", Request("POST", "/x", headers=[("Idempotency-Key", "mine")]))
    await engine.call("pay", Request("GET", "/x"))
    assert keys == ["mine", None]


async def test_post_without_key_is_not_retried_after_a_timeout() -> None:
    """Without an idempotency key an ambiguous POST failure is raised, not resent."""
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        raise httpx.ReadTimeout("slow", request=request)

    engine, _ = make_engine(cfg(generate=False), handler)
    with pytest.raises(UpstreamTimeout) as caught:
        await engine.call("pay", Request("POST", "/v1/charges"))
    assert calls == 1
    assert caught.value.attempts == 1
    assert caught.value.integration == "pay"
    assert caught.value.provider == "first"


async def test_post_is_retried_when_the_request_never_left() -> None:
    """A refused connection means nothing was sent, so even a POST is safe to resend."""
    hosts: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        hosts.append(request.url.host)
        if request.url.host == "first.test":
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200)

    engine, _ = make_engine(cfg(generate=False), handler)
    response = await engine.call("pay", Request("POST", "/v1/charges"))
    assert response.status == 200
    assert hosts == ["first.test", "second.test"]


async def test_dropped_connection_after_send_raises_connect_error() -> None:
    """Every attempt dropping mid-call ends in UpstreamConnectError with the attempts."""

    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.RemoteProtocolError("dropped", request=request)

    engine, _ = make_engine(cfg(), handler)
    with pytest.raises(UpstreamConnectError) as caught:
        await engine.call("pay", Request("POST", "/v1/charges"))
    assert caught.value.attempts == 3
    assert caught.value.sent is True


async def test_card_decline_is_final_and_not_a_breaker_failure() -> None:
    """A 402 is returned at once and does not count against the vendor."""
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(402, json={"error": {"code": "card_declined"}})

    extra = "    policy:\n      circuit_breaker: {min_calls: 2, window: {type: count, size: 4}}\n"
    engine, sink = make_engine(cfg(extra=extra), handler)
    for _ in range(10):
        response = await engine.call("pay", Request("POST", "/v1/charges"))
        assert response.status == 402
    assert calls == 10
    assert engine.breaker_state("pay", "first") is BreakerState.CLOSED
    assert {e.outcome for e in sink.of(AttemptFinished)} == {"final"}


async def test_server_errors_open_the_breaker_and_then_refuse() -> None:
    """Failures past the rate open the breaker; then calls are refused without sending."""
    clock = ManualClock(1000.0)
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(500)

    yaml = """
    version: 1
    defaults:
      policy:
        retry: {attempts: 1}
        circuit_breaker: {window: {type: count, size: 4}, min_calls: 4, failure_rate: 50%, open_for: 30s, half_open_calls: 1}
    integrations:
      inv:
        providers: [{name: only, base_url: "http://only.test"}]
    """
    engine, sink = make_engine(yaml, handler, clock=clock)
    for _ in range(4):
        assert (await engine.call("inv", Request("GET", "/stock"))).status == 500
    assert engine.breaker_state("inv", "only") is BreakerState.OPEN
    with pytest.raises(CircuitOpen) as caught:
        await engine.call("inv", Request("GET", "/stock"))
    assert calls == 4
    assert caught.value.retry_after == pytest.approx(30.0)
    assert caught.value.integration == "inv"
    changes = sink.of(BreakerChanged)
    assert [(c.old, c.new) for c in changes] == [(BreakerState.CLOSED, BreakerState.OPEN)]
    assert any(r.reason == "circuit-open" for r in sink.of(Rejected))
    clock.advance(30.0)
    assert (await engine.call("inv", Request("GET", "/stock"))).status == 500
    assert engine.breaker_state("inv", "only") is BreakerState.OPEN


async def test_operator_can_force_and_disable_a_breaker() -> None:
    """FORCED_OPEN refuses every call; DISABLED lets calls through; CLOSED restores."""
    engine, sink = make_engine(cfg(), lambda request: httpx.Response(200))
    engine.set_breaker("pay", "first", BreakerState.FORCED_OPEN)
    engine.set_breaker("pay", "second", BreakerState.FORCED_OPEN)
    with pytest.raises(CircuitOpen):
        await engine.call("pay", Request("GET", "/x"))
    engine.set_breaker("pay", "first", BreakerState.DISABLED)
    assert (await engine.call("pay", Request("GET", "/x"))).provider == "first"
    engine.set_breaker("pay", "first", BreakerState.CLOSED)
    assert engine.breaker_state("pay", "first") is BreakerState.CLOSED
    assert {c.cause for c in sink.of(BreakerChanged)} == {"operator"}


async def test_throttled_answers_wait_for_retry_after() -> None:
    """A 429 with Retry-After is retried after at least that long, and is not a breaker failure."""
    stamps: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        stamps.append(time.monotonic())
        if len(stamps) == 1:
            return httpx.Response(429, headers={"Retry-After": "0.3"})
        return httpx.Response(200)

    yaml = """
    version: 1
    defaults:
      policy:
        retry: {attempts: 2, backoff: {initial: 1ms, max: 1ms}}
    integrations:
      api:
        providers: [{name: only, base_url: "http://only.test"}]
    """
    engine, sink = make_engine(yaml, handler)
    response = await engine.call("api", Request("GET", "/x"))
    assert response.status == 200
    assert stamps[1] - stamps[0] >= 0.29
    assert sink.of(AttemptFinished)[0].outcome == "throttled"
    assert engine.breaker_state("api", "only") is BreakerState.CLOSED


async def test_retry_after_longer_than_the_deadline_is_not_waited() -> None:
    """A Retry-After that cannot fit the deadline gives up at once with the vendor's answer."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, headers={"Retry-After": "120"})

    engine, _ = make_engine(cfg(), handler)
    started = time.monotonic()
    response = await engine.call("pay", Request("GET", "/x"))
    assert response.status == 503
    assert time.monotonic() - started < 0.5


async def test_deadline_bounds_all_attempts() -> None:
    """A hanging vendor costs at most the deadline; no attempt starts without time to finish."""

    async def hang(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(10)
        return httpx.Response(200)

    yaml = """
    version: 1
    defaults:
      policy:
        timeout: 150ms
        deadline: 400ms
        retry: {attempts: 10, backoff: {initial: 1ms, max: 1ms}}
    integrations:
      api:
        providers: [{name: only, base_url: "http://only.test"}]
    """
    engine, _ = make_engine(yaml, hang)  # type: ignore[arg-type]
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded) as caught:
        await engine.call("api", Request("GET", "/x"))
    elapsed = time.monotonic() - started
    assert 0.29 <= elapsed <= 0.45
    assert caught.value.attempts == 2
    assert isinstance(caught.value.__cause__, UpstreamTimeout)


async def test_budget_stops_retries() -> None:
    """With no retry budget, a retryable failure is not retried: BudgetExhausted."""

    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    extra = "    policy:\n      retry: {budget: {ratio: 0%, min_per_second: 0}}\n"
    engine, _ = make_engine(cfg(extra=extra), handler)
    with pytest.raises(BudgetExhausted) as caught:
        await engine.call("pay", Request("GET", "/x"))
    assert caught.value.attempts == 1
    assert isinstance(caught.value.__cause__, UpstreamConnectError)


async def test_bulkhead_refuses_beyond_queue() -> None:
    """Beyond max_concurrent plus max_queue, calls are refused with BulkheadFull."""
    release = asyncio.Event()

    async def slow(request: httpx.Request) -> httpx.Response:
        await release.wait()
        return httpx.Response(200)

    yaml = """
    version: 1
    defaults:
      policy:
        bulkhead: {max_concurrent: 2, max_queue: 1, queue_timeout: 1s}
    integrations:
      api:
        providers: [{name: only, base_url: "http://only.test"}]
    """
    engine, sink = make_engine(yaml, slow)  # type: ignore[arg-type]
    tasks = [asyncio.create_task(engine.call("api", Request("GET", "/x"))) for _ in range(3)]
    await asyncio.sleep(0.05)
    assert engine.integration("api").inflight == 2  # the third waits in the queue
    with pytest.raises(BulkheadFull):
        await engine.call("api", Request("GET", "/x"))
    release.set()
    results = await asyncio.gather(*tasks)
    assert [r.status for r in results] == [200, 200, 200]
    assert engine.integration("api").bulkhead.active == 0
    assert engine.integration("api").inflight == 0
    assert any(r.reason == "bulkhead-full" for r in sink.of(Rejected))


async def test_bulkhead_queue_times_out() -> None:
    """A queued call waits at most queue_timeout."""
    release = asyncio.Event()

    async def slow(request: httpx.Request) -> httpx.Response:
        await release.wait()
        return httpx.Response(200)

    yaml = """
    version: 1
    defaults:
      policy:
        bulkhead: {max_concurrent: 1, max_queue: 5, queue_timeout: 100ms}
    integrations:
      api:
        providers: [{name: only, base_url: "http://only.test"}]
    """
    engine, _ = make_engine(yaml, slow)  # type: ignore[arg-type]
    first = asyncio.create_task(engine.call("api", Request("GET", "/x")))
    await asyncio.sleep(0.01)
    started = time.monotonic()
    with pytest.raises(BulkheadFull):
        await engine.call("api", Request("GET", "/x"))
    assert 0.09 <= time.monotonic() - started < 0.3
    release.set()
    assert (await first).status == 200
    assert engine.integration("api").bulkhead.queued == 0


async def test_rate_limit_shapes_calls() -> None:
    """Calls beyond the burst wait for tokens instead of failing."""
    stamps: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        stamps.append(time.monotonic())
        return httpx.Response(200)

    yaml = """
    version: 1
    integrations:
      api:
        providers: [{name: only, base_url: "http://only.test"}]
        policy:
          rate_limit: {rate: 20/s, burst: 2}
    """
    engine, _ = make_engine(yaml, handler)
    started = time.monotonic()
    await asyncio.gather(*(engine.call("api", Request("GET", "/x")) for _ in range(8)))
    # 2 at once, then 6 more at 20/s: at least 0.3 s
    assert time.monotonic() - started >= 0.28
    assert len(stamps) == 8


async def test_rate_limit_refuses_when_the_wait_exceeds_the_deadline() -> None:
    """When the queue for tokens is longer than the deadline, RateLimited is raised."""
    yaml = """
    version: 1
    defaults:
      policy:
        deadline: 200ms
    integrations:
      api:
        providers: [{name: only, base_url: "http://only.test"}]
        policy:
          rate_limit: {rate: 1/s, burst: 1}
    """
    engine, sink = make_engine(yaml, lambda request: httpx.Response(200))
    await engine.call("api", Request("GET", "/x"))
    with pytest.raises(RateLimited) as caught:
        await engine.call("api", Request("GET", "/x"))
    assert caught.value.retry_after == pytest.approx(1.0)
    assert any(r.reason == "rate-limited" for r in sink.of(Rejected))


async def test_unknown_integration() -> None:
    """Calling an integration that is not configured names the configured ones."""
    engine, _ = make_engine(cfg(), lambda request: httpx.Response(200))
    with pytest.raises(UnknownIntegration, match="configured: pay"):
        await engine.call("nope", Request("GET", "/"))


async def test_auth_is_injected_and_caller_credentials_replaced() -> None:
    """Provider auth from the config replaces whatever the caller sent."""
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("Authorization"))
        return httpx.Response(200)

    yaml = """
    version: 1
    integrations:
      api:
        providers: [{name: only, base_url: "http://only.test", auth: {type: bearer, token: sk_live}}]
    """
    engine, _ = make_engine(yaml, handler)
    await engine.call("api", Request("GET", "/x", headers=[("authorization", "Bearer caller")]))
    assert seen == ["Bearer sk_live"]


async def test_classification_overrides_per_integration() -> None:
    """An integration can call a 503 final (not retried, not a fault) or a 404 a vendor failure."""
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return httpx.Response(503 if request.url.path == "/busy" else 404)

    extra = (
        "    policy:\n"
        "      classify: {final: [503], failure: [404]}\n"
        "      circuit_breaker: {min_calls: 2, window: {type: count, size: 2}}\n"
    )
    engine, sink = make_engine(cfg(extra=extra), handler)
    answer = await engine.call("pay", Request("GET", "/busy"))
    assert answer.status == 503
    assert calls == ["/busy"], "a final 503 is not retried"
    assert sink.of(AttemptFinished)[0].outcome == "final"
    for _ in range(2):
        await engine.call("pay", Request("GET", "/missing"))
    assert {e.outcome for e in sink.of(AttemptFinished)[1:]} == {"failure"}
    assert engine.breaker_state("pay", "first") is BreakerState.OPEN, (
        "404s counted against the vendor"
    )
