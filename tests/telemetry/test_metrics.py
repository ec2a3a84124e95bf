"""Metrics: known event streams in, exact values out of the rendered exposition."""

from __future__ import annotations

import logging
import textwrap

import httpx
import prometheus_client
import pytest
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as openmetrics_families,
)
from prometheus_client.parser import text_string_to_metric_families

import seawall.telemetry
from seawall._events import (
    AttemptFinished,
    BreakerChanged,
    CallFinished,
    CallStarted,
    FanOutSink,
    Rejected,
    RetryScheduled,
)
from seawall._states import BreakerState
from seawall.config import Config, check_text
from seawall.telemetry import DURATION_BUCKETS, Metrics

CONFIG = """
version: 1
defaults:
  policy:
    timeout: 200ms
    deadline: 2s
    retry: {attempts: 3, backoff: {initial: 1ms, max: 2ms}}
integrations:
  pay:
    providers:
      - {name: stripe, base_url: "http://stripe.test"}
      - {name: adyen, role: backup, base_url: "http://adyen.test"}
    idempotency: {generate: true}
  mail:
    providers:
      - {name: sendgrid, base_url: "http://sendgrid.test"}
"""


def make_config(yaml_text: str = CONFIG) -> Config:
    config, findings = check_text(textwrap.dedent(yaml_text), env={})
    assert not findings, [str(f) for f in findings]
    assert config is not None
    return config


def value(metrics: Metrics, name: str, **labels: str) -> float | None:
    """The value of sample ``name`` with exactly ``labels``, or None when absent."""
    body, _ = metrics.render()
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return None


def series(metrics: Metrics, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """Every sample called ``name``, keyed by its sorted labels."""
    body, _ = metrics.render()
    return {
        tuple(sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(body.decode())
        for sample in family.samples
        if sample.name == name
    }


def finished(
    integration: str = "pay",
    provider: str | None = "stripe",
    outcome: str = "success",
    duration: float = 0.1,
) -> CallFinished:
    return CallFinished(
        at=0.0,
        integration=integration,
        provider=provider,
        method="POST",
        outcome=outcome,
        status=200 if outcome == "success" else None,
        attempts=1,
        duration=duration,
    )


def attempt(provider: str, outcome: str, n: int = 1) -> AttemptFinished:
    return AttemptFinished(
        at=0.0,
        integration="pay",
        provider=provider,
        attempt=n,
        outcome=outcome,
        status=None,
        duration=0.05,
    )


def changed(old: BreakerState, new: BreakerState, provider: str = "stripe") -> BreakerChanged:
    return BreakerChanged(at=0.0, integration="pay", provider=provider, old=old, new=new)


def test_public_names_are_pinned() -> None:
    """seawall.telemetry exports exactly Metrics, its default buckets and the Recorder, sorted."""
    assert seawall.telemetry.__all__ == sorted(seawall.telemetry.__all__)
    assert seawall.telemetry.__all__ == ["DURATION_BUCKETS", "Metrics", "Recorder"]


def test_requests_are_counted_by_integration_provider_and_outcome() -> None:
    """CallFinished counts one request per provider and outcome, with provider "" when none was reached."""
    metrics = Metrics()
    for event in (
        finished(outcome="success"),
        finished(outcome="success"),
        finished(provider="adyen", outcome="final"),
        finished(provider=None, outcome="bulkhead-full"),
        finished(integration="mail", provider="sendgrid", outcome="upstream-timeout"),
    ):
        metrics.emit(event)
    assert series(metrics, "seawall_requests_total") == {
        (("integration", "pay"), ("outcome", "success"), ("provider", "stripe")): 2.0,
        (("integration", "pay"), ("outcome", "final"), ("provider", "adyen")): 1.0,
        (("integration", "pay"), ("outcome", "bulkhead-full"), ("provider", "")): 1.0,
        (("integration", "mail"), ("outcome", "upstream-timeout"), ("provider", "sendgrid")): 1.0,
    }
    assert Metrics.NO_PROVIDER == ""


def test_request_durations_fill_histogram_buckets_and_sum() -> None:
    """Whole-call durations land in the cumulative buckets, with exact count and sum."""
    metrics = Metrics()
    for duration in (0.004, 0.2, 0.2, 3.0, 45.0):
        metrics.emit(finished(duration=duration))
    name = "seawall_request_duration_seconds"
    labels = {"integration": "pay", "provider": "stripe"}
    assert value(metrics, f"{name}_bucket", **labels, le="0.005") == 1.0
    assert value(metrics, f"{name}_bucket", **labels, le="0.1") == 1.0
    assert value(metrics, f"{name}_bucket", **labels, le="0.25") == 3.0
    assert value(metrics, f"{name}_bucket", **labels, le="2.5") == 3.0
    assert value(metrics, f"{name}_bucket", **labels, le="5.0") == 4.0
    assert value(metrics, f"{name}_bucket", **labels, le="30.0") == 4.0
    assert value(metrics, f"{name}_bucket", **labels, le="+Inf") == 5.0
    assert value(metrics, f"{name}_count", **labels) == 5.0
    assert value(metrics, f"{name}_sum", **labels) == pytest.approx(48.404)


def test_buckets_default_to_vendor_api_latencies_and_can_be_chosen() -> None:
    """The default buckets run from 5 ms to 30 s, and a caller's buckets replace them."""
    assert DURATION_BUCKETS[0] == 0.005
    assert DURATION_BUCKETS[-1] == 30.0
    assert list(DURATION_BUCKETS) == sorted(DURATION_BUCKETS)
    metrics = Metrics(buckets=(0.5, 1.0))
    metrics.emit(finished(duration=0.7))
    buckets = series(metrics, "seawall_request_duration_seconds_bucket")
    assert sorted(dict(labels)["le"] for labels in buckets) == ["+Inf", "0.5", "1.0"]


def test_attempts_and_retries_are_counted_per_provider() -> None:
    """AttemptFinished counts by classified outcome; RetryScheduled counts per provider."""
    metrics = Metrics()
    metrics.emit(attempt("stripe", "failure", 1))
    metrics.emit(
        RetryScheduled(
            at=0, integration="pay", provider="stripe", attempt=1, delay=0.1, cause="failure"
        )
    )
    metrics.emit(attempt("stripe", "timeout", 2))
    metrics.emit(
        RetryScheduled(
            at=0, integration="pay", provider="stripe", attempt=2, delay=0.2, cause="timeout"
        )
    )
    metrics.emit(attempt("adyen", "success", 3))
    assert series(metrics, "seawall_attempts_total") == {
        (("integration", "pay"), ("outcome", "failure"), ("provider", "stripe")): 1.0,
        (("integration", "pay"), ("outcome", "timeout"), ("provider", "stripe")): 1.0,
        (("integration", "pay"), ("outcome", "success"), ("provider", "adyen")): 1.0,
    }
    assert series(metrics, "seawall_retries_total") == {
        (("integration", "pay"), ("provider", "stripe")): 2.0,
    }


def test_circuit_gauge_follows_breaker_transitions() -> None:
    """The circuit gauge reads 0, then 2 when opened, 1 when half-open, 0 when closed again."""
    metrics = Metrics()
    metrics.declare(make_config())
    labels = {"integration": "pay", "provider": "stripe"}
    seen = [value(metrics, "seawall_circuit_state", **labels)]
    for old, new in (
        (BreakerState.CLOSED, BreakerState.OPEN),
        (BreakerState.OPEN, BreakerState.HALF_OPEN),
        (BreakerState.HALF_OPEN, BreakerState.CLOSED),
    ):
        metrics.emit(changed(old, new))
        seen.append(value(metrics, "seawall_circuit_state", **labels))
    assert seen == [0.0, 2.0, 1.0, 0.0]
    assert series(metrics, "seawall_breaker_transitions_total") == {
        (("integration", "pay"), ("provider", "stripe"), ("to", "open")): 1.0,
        (("integration", "pay"), ("provider", "stripe"), ("to", "half_open")): 1.0,
        (("integration", "pay"), ("provider", "stripe"), ("to", "closed")): 1.0,
    }


def test_forced_open_and_disabled_map_onto_the_gauge() -> None:
    """An operator's forced_open reads as open (2) and disabled as closed (0)."""
    metrics = Metrics()
    metrics.emit(changed(BreakerState.CLOSED, BreakerState.FORCED_OPEN))
    assert value(metrics, "seawall_circuit_state", integration="pay", provider="stripe") == 2.0
    metrics.emit(changed(BreakerState.FORCED_OPEN, BreakerState.DISABLED))
    assert value(metrics, "seawall_circuit_state", integration="pay", provider="stripe") == 0.0


def test_set_circuit_state_sets_the_gauge_directly() -> None:
    """set_circuit_state writes the state's gauge value without counting a transition."""
    metrics = Metrics()
    metrics.set_circuit_state("pay", "adyen", BreakerState.HALF_OPEN)
    assert value(metrics, "seawall_circuit_state", integration="pay", provider="adyen") == 1.0
    assert series(metrics, "seawall_breaker_transitions_total") == {}


def test_declare_creates_every_configured_series_at_zero() -> None:
    """declare exposes a circuit gauge and a retry counter at 0 for every configured provider."""
    metrics = Metrics()
    assert series(metrics, "seawall_circuit_state") == {}
    metrics.declare(make_config())
    expected = {
        (("integration", "pay"), ("provider", "stripe")): 0.0,
        (("integration", "pay"), ("provider", "adyen")): 0.0,
        (("integration", "mail"), ("provider", "sendgrid")): 0.0,
    }
    assert series(metrics, "seawall_circuit_state") == expected
    assert series(metrics, "seawall_retries_total") == expected


def test_declare_again_keeps_values_and_drops_removed_providers() -> None:
    """A reload keeps an open breaker's gauge and removes the gauge of a provider no longer configured."""
    metrics = Metrics()
    metrics.declare(make_config())
    metrics.emit(changed(BreakerState.CLOSED, BreakerState.OPEN, provider="stripe"))
    metrics.emit(changed(BreakerState.CLOSED, BreakerState.OPEN, provider="adyen"))
    smaller = CONFIG.replace(
        '      - {name: adyen, role: backup, base_url: "http://adyen.test"}\n', ""
    )
    metrics.declare(make_config(smaller))
    assert series(metrics, "seawall_circuit_state") == {
        (("integration", "pay"), ("provider", "stripe")): 2.0,
        (("integration", "mail"), ("provider", "sendgrid")): 0.0,
    }
    metrics.emit(changed(BreakerState.OPEN, BreakerState.HALF_OPEN, provider="adyen"))
    assert value(metrics, "seawall_circuit_state", integration="pay", provider="adyen") == 1.0


def test_rejections_are_counted_by_reason() -> None:
    """Rejected counts per integration and reason, whatever the provider."""
    metrics = Metrics()
    for provider, reason in (
        (None, "bulkhead-full"),
        ("stripe", "circuit-open"),
        ("adyen", "circuit-open"),
        ("stripe", "rate-limited"),
    ):
        metrics.emit(Rejected(at=0.0, integration="pay", provider=provider, reason=reason))
    assert series(metrics, "seawall_rejections_total") == {
        (("integration", "pay"), ("reason", "bulkhead-full")): 1.0,
        (("integration", "pay"), ("reason", "circuit-open")): 2.0,
        (("integration", "pay"), ("reason", "rate-limited")): 1.0,
    }


def test_inflight_and_queued_are_read_at_scrape_time() -> None:
    """The in-flight and bulkhead-queue gauges show what the callbacks return when rendered."""
    metrics = Metrics()
    live = {"pay": 3, "mail": 0}
    metrics.track_inflight(lambda: live)
    metrics.track_bulkhead_queued(lambda: {"pay": 2})
    assert series(metrics, "seawall_inflight") == {
        (("integration", "pay"),): 3.0,
        (("integration", "mail"),): 0.0,
    }
    live["pay"] = 1
    assert value(metrics, "seawall_inflight", integration="pay") == 1.0
    assert series(metrics, "seawall_bulkhead_queued") == {(("integration", "pay"),): 2.0}


def test_call_started_does_not_move_inflight() -> None:
    """CallStarted is ignored, since the in-flight gauge reads the engine's own counter."""
    metrics = Metrics()
    metrics.track_inflight(lambda: {"pay": 0})
    metrics.emit(CallStarted(at=0.0, integration="pay", method="GET", path="/"))
    assert value(metrics, "seawall_inflight", integration="pay") == 0.0


def test_registering_a_callback_again_swaps_the_reader() -> None:
    """A second registration of a gauge name with the same labels replaces its reader."""
    metrics = Metrics()
    metrics.track_inflight(lambda: {"pay": 5})
    metrics.track_inflight(lambda: {"pay": 7})
    assert series(metrics, "seawall_inflight") == {(("integration", "pay"),): 7.0}


def test_register_gauge_callback_with_several_labels() -> None:
    """A custom gauge exposes one series per key of label values."""
    metrics = Metrics()
    metrics.register_gauge_callback(
        "seawall_tokens",
        "Tokens left.",
        ("integration", "provider"),
        lambda: {("pay", "stripe"): 4.5},
    )
    assert value(metrics, "seawall_tokens", integration="pay", provider="stripe") == 4.5


def test_register_gauge_callback_refuses_clashing_names_and_label_strings() -> None:
    """A name taken by other labels or by a built-in metric, or labels given as one string, is refused."""
    metrics = Metrics()
    metrics.track_inflight(lambda: {})
    with pytest.raises(ValueError, match="registered with labels"):
        metrics.register_gauge_callback("seawall_inflight", "x", ("provider",), lambda: {})
    with pytest.raises(ValueError, match="Duplicated"):
        metrics.register_gauge_callback("seawall_circuit_state", "x", ("integration",), lambda: {})
    with pytest.raises(TypeError, match="sequence of label names"):
        metrics.register_gauge_callback("seawall_other", "x", "integration", lambda: {})


def test_a_failing_callback_costs_only_its_own_gauge(caplog: pytest.LogCaptureFixture) -> None:
    """A reader that raises is logged and leaves its gauge empty; the rest of the scrape renders."""

    def broken() -> dict[str, int]:
        raise RuntimeError("engine gone")

    metrics = Metrics()
    metrics.track_inflight(broken)
    metrics.track_bulkhead_queued(lambda: {"pay": 1})
    with caplog.at_level(logging.WARNING, logger="seawall.telemetry"):
        assert series(metrics, "seawall_inflight") == {}
    assert "seawall_inflight" in caplog.text
    assert value(metrics, "seawall_bulkhead_queued", integration="pay") == 1.0


def test_reloads_are_counted_by_result() -> None:
    """record_reload counts successes and failures, both exposed at 0 from the start."""
    metrics = Metrics()
    assert series(metrics, "seawall_config_reloads_total") == {
        (("result", "success"),): 0.0,
        (("result", "failure"),): 0.0,
    }
    metrics.record_reload(True)
    metrics.record_reload(True)
    metrics.record_reload(False)
    assert value(metrics, "seawall_config_reloads_total", result="success") == 2.0
    assert value(metrics, "seawall_config_reloads_total", result="failure") == 1.0


def test_build_info_names_the_version() -> None:
    """seawall_build_info is 1 with the given version, or the installed one by default."""
    assert series(Metrics(version="9.9.9"), "seawall_build_info") == {(("version", "9.9.9"),): 1.0}
    assert value(Metrics(), "seawall_build_info", version=seawall.__version__) == 1.0


def test_unknown_events_are_ignored() -> None:
    """An event of a type the sink does not know changes nothing and does not raise."""
    metrics = Metrics()
    before = metrics.render()[0]
    metrics.emit(object())  # type: ignore[arg-type]
    metrics.emit(None)  # type: ignore[arg-type]
    assert metrics.render()[0] == before


def test_a_malformed_event_does_not_raise(caplog: pytest.LogCaptureFixture) -> None:
    """An event whose update fails is swallowed and logged once, so a call never breaks on metrics."""
    metrics = Metrics()
    bad = finished(duration=None)  # type: ignore[arg-type]
    with caplog.at_level(logging.WARNING, logger="seawall.telemetry"):
        metrics.emit(bad)
        metrics.emit(bad)
    assert len(caplog.records) == 1
    metrics.emit(finished())
    assert (
        value(
            metrics, "seawall_request_duration_seconds_count", integration="pay", provider="stripe"
        )
        == 1.0
    )


def test_two_instances_do_not_share_state() -> None:
    """Each Metrics owns its registry: events and callbacks in one never show in the other."""
    first, second = Metrics(), Metrics()
    first.emit(finished())
    first.track_inflight(lambda: {"pay": 1})
    second.track_inflight(lambda: {"pay": 2})
    assert (
        value(
            first, "seawall_requests_total", integration="pay", provider="stripe", outcome="success"
        )
        == 1.0
    )
    assert series(second, "seawall_requests_total") == {}
    assert value(second, "seawall_inflight", integration="pay") == 2.0
    assert first.registry is not second.registry
    assert prometheus_client.REGISTRY.get_sample_value("seawall_requests_total") is None


def test_a_given_registry_is_used() -> None:
    """Metrics registers into the registry it is handed."""
    registry = prometheus_client.CollectorRegistry()
    metrics = Metrics(registry=registry)
    metrics.emit(finished())
    assert metrics.registry is registry
    labels = {"integration": "pay", "provider": "stripe", "outcome": "success"}
    assert registry.get_sample_value("seawall_requests_total", labels) == 1.0


def test_labels_is_called_once_per_label_set(monkeypatch: pytest.MonkeyPatch) -> None:
    """Repeated events for one series of a prometheus_client metric reuse the cached child."""
    metrics = Metrics()
    calls: list[tuple[str, tuple[object, ...]]] = []
    original = prometheus_client.Counter.labels

    def counting(self, *values, **kw):  # type: ignore[no-untyped-def]
        calls.append((self._name, values))
        return original(self, *values, **kw)

    monkeypatch.setattr(prometheus_client.Counter, "labels", counting)
    for _ in range(50):
        metrics.emit(
            RetryScheduled(
                at=0, integration="pay", provider="stripe", attempt=1, delay=0.1, cause="failure"
            )
        )
        metrics.emit(Rejected(at=0.0, integration="pay", provider=None, reason="bulkhead-full"))
    assert sorted(calls) == [
        ("seawall_rejections", ("pay", "bulkhead-full")),
        ("seawall_retries", ("pay", "stripe")),
    ]


def test_calls_and_attempts_never_reach_prometheus_client_metrics(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """CallFinished and AttemptFinished are counted in plain Python: no .labels, inc or observe."""
    metrics = Metrics()
    touched: list[str] = []
    for cls, names in (
        (prometheus_client.Counter, ("labels", "inc")),
        (prometheus_client.Histogram, ("labels", "observe")),
        (prometheus_client.Gauge, ("labels", "set", "inc")),
    ):
        for name in names:

            def spy(*args, _name=f"{cls.__name__}.{name}", **kw):  # type: ignore[no-untyped-def]
                touched.append(_name)
                raise AssertionError(_name)

            monkeypatch.setattr(cls, name, spy)
    for _ in range(50):
        for event in (finished(), finished(provider=None, outcome="bulkhead-full")):
            metrics.emit(event)
        metrics.emit(attempt("stripe", "success"))
    assert touched == []
    assert (
        value(
            metrics,
            "seawall_requests_total",
            integration="pay",
            provider="stripe",
            outcome="success",
        )
        == 50.0
    )


def test_render_speaks_the_text_format_by_default() -> None:
    """Without an Accept header, or with a plain one, the classic text format is returned."""
    metrics = Metrics()
    body, content_type = metrics.render()
    assert content_type == prometheus_client.CONTENT_TYPE_LATEST
    assert content_type.startswith("text/plain")
    assert b"# TYPE seawall_requests_total counter" in body
    assert metrics.render("text/plain")[1].startswith("text/plain")


def test_render_speaks_openmetrics_when_asked() -> None:
    """An Accept header naming OpenMetrics 1.0 gets the OpenMetrics format, ending in # EOF."""
    metrics = Metrics()
    metrics.emit(finished())
    accept = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"
    body, content_type = metrics.render(accept)
    assert content_type.startswith("application/openmetrics-text")
    assert body.endswith(b"# EOF\n")
    samples = {
        sample.name: sample.value
        for family in openmetrics_families(body.decode())
        for sample in family.samples
        if family.name == "seawall_requests"
    }
    assert samples["seawall_requests_total"] == 1.0


async def test_real_engine_events_land_in_the_metrics() -> None:
    """An engine with Metrics as its sink counts a 503 on stripe, a retry, and a 201 from adyen."""
    from seawall.engine import Engine, Request
    from seawall.transports import HttpxUpstream

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503 if request.url.host == "stripe.test" else 201)

    config = make_config()
    metrics = Metrics()
    metrics.declare(config)
    engine = Engine(
        config, upstream=HttpxUpstream(httpx.MockTransport(handler)), sink=FanOutSink([metrics])
    )
    metrics.track_inflight(lambda: {name: rt.inflight for name, rt in engine.integrations.items()})
    response = await engine.call("pay", Request("POST", "/v1/charges", body=b"amount=5"))
    assert response.status == 201
    assert (
        value(
            metrics,
            "seawall_requests_total",
            integration="pay",
            provider="adyen",
            outcome="success",
        )
        == 1.0
    )
    assert (
        value(
            metrics,
            "seawall_attempts_total",
            integration="pay",
            provider="stripe",
            outcome="failure",
        )
        == 1.0
    )
    assert (
        value(
            metrics,
            "seawall_attempts_total",
            integration="pay",
            provider="adyen",
            outcome="success",
        )
        == 1.0
    )
    assert value(metrics, "seawall_retries_total", integration="pay", provider="stripe") == 1.0
    assert (
        value(
            metrics, "seawall_request_duration_seconds_count", integration="pay", provider="adyen"
        )
        == 1.0
    )
    assert series(metrics, "seawall_inflight") == {
        (("integration", "pay"),): 0.0,
        (("integration", "mail"),): 0.0,
    }
    await engine.aclose()
