"""The per-call metrics (requests, durations, attempts) expose exactly what prometheus_client did.

They are counted in plain Python and exposed by a custom collector; these tests
pin the rendered exposition line for line, and compare it with prometheus_client's
own Counter and Histogram fed the same events (the implementation they replace).
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Sequence

import prometheus_client
import prometheus_client.metrics
import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest
from prometheus_client.openmetrics.exposition import generate_latest as generate_openmetrics
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as openmetrics_families,
)
from prometheus_client.parser import text_string_to_metric_families

from seawall._events import AttemptFinished, CallFinished, Event, RetryScheduled
from seawall.telemetry import DURATION_BUCKETS, Metrics
from seawall.telemetry._calls import CallMetrics

OPENMETRICS = "application/openmetrics-text;version=1.0.0"
CREATED = re.compile(r"(_created\{[^}]*\}) \S+")


def call(
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
        status=None,
        attempts=1,
        duration=duration,
    )


def attempt(
    integration: str = "pay", provider: str = "stripe", outcome: str = "success"
) -> AttemptFinished:
    return AttemptFinished(
        at=0.0,
        integration=integration,
        provider=provider,
        attempt=1,
        outcome=outcome,
        status=None,
        duration=0.01,
    )


def masked(body: bytes) -> str:
    """The exposition with every ``_created`` value (a wall-clock time) replaced by ``<ts>``."""
    return CREATED.sub(r"\1 <ts>", body.decode())


def call_families(metrics: Metrics, accept: str | None = None) -> str:
    """The requests, duration and attempts families: the first three rendered, timestamps masked."""
    body = masked(metrics.render(accept)[0])
    if accept is None:
        return body[: body.index("# HELP seawall_retries_total ")]
    return body[: body.index("# HELP seawall_retries ")] + "# EOF\n"


class Reference:
    """prometheus_client's own Counter and Histogram, fed as Metrics fed them before."""

    def __init__(self, buckets: Sequence[float]) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "seawall_requests_total",
            "Calls that left the engine, by the provider that answered and the outcome.",
            ["integration", "provider", "outcome"],
            registry=self.registry,
        )
        self.durations = Histogram(
            "seawall_request_duration_seconds",
            "Whole-call duration in seconds, every retry and backoff included.",
            ["integration", "provider"],
            buckets=tuple(buckets),
            registry=self.registry,
        )
        self.attempts = Counter(
            "seawall_attempts_total",
            "Attempts against one provider, by classified outcome.",
            ["integration", "provider", "outcome"],
            registry=self.registry,
        )

    def emit(self, event: Event) -> None:
        try:
            if isinstance(event, CallFinished):
                provider = event.provider or ""
                self.requests.labels(event.integration, provider, event.outcome).inc()
                self.durations.labels(event.integration, provider).observe(event.duration)
            elif isinstance(event, AttemptFinished):
                self.attempts.labels(event.integration, event.provider, event.outcome).inc()
        except Exception:
            pass  # Metrics.emit swallowed it the same way

    def render(self, accept: str | None = None) -> str:
        if accept is None:
            return masked(generate_latest(self.registry))
        return masked(generate_openmetrics(self.registry))


def feed(events: Iterable[Event], buckets: Sequence[float]) -> tuple[Metrics, Reference]:
    metrics, reference = Metrics(buckets=buckets), Reference(buckets)
    for event in events:
        metrics.emit(event)
        reference.emit(event)
    return metrics, reference


@pytest.fixture
def created_switch() -> Iterator[None]:
    """Restore prometheus_client's _created switch after a test flips it."""
    was = prometheus_client.metrics._use_created
    yield
    if was:
        prometheus_client.enable_created_metrics()
    else:
        prometheus_client.disable_created_metrics()


def test_the_three_families_render_line_for_line() -> None:
    """Two integrations, three providers and a call without one render exactly these lines."""
    metrics = Metrics(buckets=(0.25, 0.5, 1.0))
    for event in (
        attempt(outcome="failure"),
        attempt(),
        call(duration=0.25),  # on a bound: counted in le="0.25"
        call(provider=None, outcome="bulkhead-full", duration=0.0),
        attempt(),
        call(duration=0.5),
        attempt(outcome="final"),
        call(outcome="final", duration=0.125),
        attempt("mail", "sendgrid", "timeout"),
        attempt("mail", "sendgrid", "timeout"),
        call("mail", "sendgrid", "upstream-timeout", duration=2.0),  # past every bound: +Inf only
        attempt(provider="adyen"),
        call(provider="adyen", duration=1.0),
    ):
        metrics.emit(event)
    assert call_families(metrics) == (
        "# HELP seawall_requests_total Calls that left the engine, by the provider that answered and the outcome.\n"
        "# TYPE seawall_requests_total counter\n"
        'seawall_requests_total{integration="pay",outcome="success",provider="stripe"} 2.0\n'
        'seawall_requests_total{integration="pay",outcome="bulkhead-full",provider=""} 1.0\n'
        'seawall_requests_total{integration="pay",outcome="final",provider="stripe"} 1.0\n'
        'seawall_requests_total{integration="mail",outcome="upstream-timeout",provider="sendgrid"} 1.0\n'
        'seawall_requests_total{integration="pay",outcome="success",provider="adyen"} 1.0\n'
        "# HELP seawall_requests_created Calls that left the engine, by the provider that answered and the outcome.\n"
        "# TYPE seawall_requests_created gauge\n"
        'seawall_requests_created{integration="pay",outcome="success",provider="stripe"} <ts>\n'
        'seawall_requests_created{integration="pay",outcome="bulkhead-full",provider=""} <ts>\n'
        'seawall_requests_created{integration="pay",outcome="final",provider="stripe"} <ts>\n'
        'seawall_requests_created{integration="mail",outcome="upstream-timeout",provider="sendgrid"} <ts>\n'
        'seawall_requests_created{integration="pay",outcome="success",provider="adyen"} <ts>\n'
        "# HELP seawall_request_duration_seconds Whole-call duration in seconds, every retry and backoff included.\n"
        "# TYPE seawall_request_duration_seconds histogram\n"
        'seawall_request_duration_seconds_bucket{integration="pay",le="0.25",provider="stripe"} 2.0\n'
        'seawall_request_duration_seconds_bucket{integration="pay",le="0.5",provider="stripe"} 3.0\n'
        'seawall_request_duration_seconds_bucket{integration="pay",le="1.0",provider="stripe"} 3.0\n'
        'seawall_request_duration_seconds_bucket{integration="pay",le="+Inf",provider="stripe"} 3.0\n'
        'seawall_request_duration_seconds_count{integration="pay",provider="stripe"} 3.0\n'
        'seawall_request_duration_seconds_sum{integration="pay",provider="stripe"} 0.875\n'
        'seawall_request_duration_seconds_bucket{integration="pay",le="0.25",provider=""} 1.0\n'
        'seawall_request_duration_seconds_bucket{integration="pay",le="0.5",provider=""} 1.0\n'
        'seawall_request_duration_seconds_bucket{integration="pay",le="1.0",provider=""} 1.0\n'
        'seawall_request_duration_seconds_bucket{integration="pay",le="+Inf",provider=""} 1.0\n'
        'seawall_request_duration_seconds_count{integration="pay",provider=""} 1.0\n'
        'seawall_request_duration_seconds_sum{integration="pay",provider=""} 0.0\n'
        'seawall_request_duration_seconds_bucket{integration="mail",le="0.25",provider="sendgrid"} 0.0\n'
        'seawall_request_duration_seconds_bucket{integration="mail",le="0.5",provider="sendgrid"} 0.0\n'
        'seawall_request_duration_seconds_bucket{integration="mail",le="1.0",provider="sendgrid"} 0.0\n'
        'seawall_request_duration_seconds_bucket{integration="mail",le="+Inf",provider="sendgrid"} 1.0\n'
        'seawall_request_duration_seconds_count{integration="mail",provider="sendgrid"} 1.0\n'
        'seawall_request_duration_seconds_sum{integration="mail",provider="sendgrid"} 2.0\n'
        'seawall_request_duration_seconds_bucket{integration="pay",le="0.25",provider="adyen"} 0.0\n'
        'seawall_request_duration_seconds_bucket{integration="pay",le="0.5",provider="adyen"} 0.0\n'
        'seawall_request_duration_seconds_bucket{integration="pay",le="1.0",provider="adyen"} 1.0\n'
        'seawall_request_duration_seconds_bucket{integration="pay",le="+Inf",provider="adyen"} 1.0\n'
        'seawall_request_duration_seconds_count{integration="pay",provider="adyen"} 1.0\n'
        'seawall_request_duration_seconds_sum{integration="pay",provider="adyen"} 1.0\n'
        "# HELP seawall_request_duration_seconds_created Whole-call duration in seconds, every retry and backoff included.\n"
        "# TYPE seawall_request_duration_seconds_created gauge\n"
        'seawall_request_duration_seconds_created{integration="pay",provider="stripe"} <ts>\n'
        'seawall_request_duration_seconds_created{integration="pay",provider=""} <ts>\n'
        'seawall_request_duration_seconds_created{integration="mail",provider="sendgrid"} <ts>\n'
        'seawall_request_duration_seconds_created{integration="pay",provider="adyen"} <ts>\n'
        "# HELP seawall_attempts_total Attempts against one provider, by classified outcome.\n"
        "# TYPE seawall_attempts_total counter\n"
        'seawall_attempts_total{integration="pay",outcome="failure",provider="stripe"} 1.0\n'
        'seawall_attempts_total{integration="pay",outcome="success",provider="stripe"} 2.0\n'
        'seawall_attempts_total{integration="pay",outcome="final",provider="stripe"} 1.0\n'
        'seawall_attempts_total{integration="mail",outcome="timeout",provider="sendgrid"} 2.0\n'
        'seawall_attempts_total{integration="pay",outcome="success",provider="adyen"} 1.0\n'
        "# HELP seawall_attempts_created Attempts against one provider, by classified outcome.\n"
        "# TYPE seawall_attempts_created gauge\n"
        'seawall_attempts_created{integration="pay",outcome="failure",provider="stripe"} <ts>\n'
        'seawall_attempts_created{integration="pay",outcome="success",provider="stripe"} <ts>\n'
        'seawall_attempts_created{integration="pay",outcome="final",provider="stripe"} <ts>\n'
        'seawall_attempts_created{integration="mail",outcome="timeout",provider="sendgrid"} <ts>\n'
        'seawall_attempts_created{integration="pay",outcome="success",provider="adyen"} <ts>\n'
    )


def ordinary_events() -> list[Event]:
    """Calls on and around every default bound, two integrations, no provider, and attempts."""
    events: list[Event] = []
    for bound in DURATION_BUCKETS:
        events.append(call(duration=bound))
        events.append(call(duration=math.nextafter(bound, math.inf), outcome="final"))
        events.append(call("mail", "sendgrid", duration=math.nextafter(bound, 0.0)))
    events += [
        call(duration=0.0),
        call(duration=2),  # an int, as a caller could pass
        call(provider=None, outcome="bulkhead-full", duration=0.0),
        call(provider="", outcome="bulkhead-full", duration=0.003),  # same series as None
        attempt(),
        attempt(provider="adyen", outcome="timeout"),
        attempt("mail", "sendgrid", "failure"),
        attempt(),
    ]
    return events


def mixed_events() -> list[Event]:
    """The ordinary events, then durations a broken clock or caller could send."""
    return [
        *ordinary_events(),
        call(provider="adyen", duration=math.inf),
        call(provider="adyen", duration=-0.5),
        call(provider="adyen", duration=math.nan),
        call(provider="adyen", duration=None),  # type: ignore[arg-type] # malformed
        attempt(provider="adyen"),
    ]


@pytest.mark.parametrize(
    "buckets",
    [
        DURATION_BUCKETS,
        (0.5, 1.0),
        (0.5, math.inf),  # +Inf given explicitly is not doubled
        (0.1, 0.1, 5),  # a repeated bound, as prometheus_client allows
        (-1.0, 0.0, 1.0),  # a negative bound: _count stays, _sum goes
    ],
)
@pytest.mark.parametrize("accept", [None, OPENMETRICS])
def test_exposition_matches_prometheus_clients_own_metrics(
    buckets: Sequence[float], accept: str | None
) -> None:
    """Same events, same buckets: the same text and OpenMetrics lines as a Counter and Histogram."""
    metrics, reference = feed(mixed_events(), buckets)
    assert call_families(metrics, accept) == reference.render(accept)


def test_a_duration_on_a_bound_counts_in_that_bucket() -> None:
    """``le`` is inclusive: a duration equal to a bound is in its bucket, the next float is not."""
    for index, bound in enumerate(DURATION_BUCKETS):
        metrics = Metrics()
        metrics.emit(call(duration=bound))
        metrics.emit(call(duration=math.nextafter(bound, math.inf)))
        buckets = {
            sample.labels["le"]: sample.value
            for family in text_string_to_metric_families(metrics.render()[0].decode())
            for sample in family.samples
            if sample.name == "seawall_request_duration_seconds_bucket"
        }
        les = list(buckets)
        assert les[-1] == "+Inf"
        assert buckets[les[index]] == 1.0, bound
        assert buckets["+Inf"] == 2.0
        if index:
            assert buckets[les[index - 1]] == 0.0, bound
        if index + 1 < len(DURATION_BUCKETS):
            assert buckets[les[index + 1]] == 2.0, bound


def test_nan_and_negative_durations_are_kept_as_prometheus_client_kept_them() -> None:
    """NaN lands in no bucket and turns _sum into NaN; a negative duration is in the first bucket.

    That is what ``Histogram.observe`` does, so it is kept: the NaN sum shows a broken
    clock rather than hiding it, and _count still counts only the real observations.
    """
    metrics = Metrics(buckets=(0.5, 1.0))
    reference = Histogram("h", "h", buckets=(0.5, 1.0), registry=CollectorRegistry())
    for duration in (0.25, math.nan, -1.0):
        metrics.emit(call(duration=duration))
        reference.observe(duration)
    prefix = "seawall_request_duration_seconds"
    ours = {
        (sample.name.removeprefix(prefix), sample.labels.get("le")): sample.value
        for family in text_string_to_metric_families(metrics.render()[0].decode())
        for sample in family.samples
        if sample.name.startswith(prefix) and not sample.name.endswith("_created")
    }
    theirs = {
        (sample.name.removeprefix("h"), sample.labels.get("le")): sample.value
        for sample in reference.collect()[0].samples
        if not sample.name.endswith("_created")
    }
    assert math.isnan(ours.pop(("_sum", None)))
    assert math.isnan(theirs.pop(("_sum", None)))
    assert (
        ours
        == theirs
        == {
            ("_bucket", "0.5"): 2.0,
            ("_bucket", "1.0"): 2.0,
            ("_bucket", "+Inf"): 2.0,
            ("_count", None): 2.0,
        }
    )


def test_the_output_parses_and_has_the_expected_types() -> None:
    """Both parsers read the families back with their types and every sample prometheus_client had."""
    metrics = Metrics()
    for event in ordinary_events():
        metrics.emit(event)
    text = {
        family.name: (family.type, {sample.name for sample in family.samples})
        for family in text_string_to_metric_families(metrics.render()[0].decode())
    }
    assert text["seawall_requests"] == ("counter", {"seawall_requests_total"})
    assert text["seawall_requests_created"] == ("gauge", {"seawall_requests_created"})
    assert text["seawall_attempts"] == ("counter", {"seawall_attempts_total"})
    assert text["seawall_request_duration_seconds"] == (
        "histogram",
        {
            "seawall_request_duration_seconds_bucket",
            "seawall_request_duration_seconds_count",
            "seawall_request_duration_seconds_sum",
        },
    )
    body = metrics.render(OPENMETRICS)[0].decode()
    families = {family.name: family for family in openmetrics_families(body)}
    assert {s.name for s in families["seawall_request_duration_seconds"].samples} == {
        "seawall_request_duration_seconds_bucket",
        "seawall_request_duration_seconds_count",
        "seawall_request_duration_seconds_sum",
        "seawall_request_duration_seconds_created",
    }
    assert families["seawall_requests"].type == "counter"
    assert {s.name for s in families["seawall_attempts"].samples} == {
        "seawall_attempts_total",
        "seawall_attempts_created",
    }


def test_created_is_the_time_of_a_series_first_event() -> None:
    """_created is set once, when a series first appears, as prometheus_client's children did."""
    metrics = Metrics()
    before = time.time()
    metrics.emit(call())
    metrics.emit(attempt())
    after = time.time()

    def created() -> dict[str, float]:
        return {
            sample.name: sample.value
            for family in text_string_to_metric_families(metrics.render()[0].decode())
            for sample in family.samples
            if sample.name
            in (
                "seawall_requests_created",
                "seawall_request_duration_seconds_created",
                "seawall_attempts_created",
            )
        }

    first = created()
    assert len(first) == 3
    assert all(before <= value <= after for value in first.values())
    time.sleep(0.01)
    metrics.emit(call())
    metrics.emit(attempt())
    assert created() == first


def test_created_samples_follow_prometheus_clients_switch(created_switch: None) -> None:
    """disable_created_metrics() drops _created from these families as from every other counter."""
    metrics = Metrics()
    metrics.emit(call())
    metrics.emit(attempt())
    metrics.emit(
        RetryScheduled(at=0, integration="pay", provider="stripe", attempt=1, delay=0.1, cause="x")
    )
    prometheus_client.disable_created_metrics()
    assert b"_created" not in metrics.render()[0]
    assert b"_created" not in metrics.render(OPENMETRICS)[0]
    prometheus_client.enable_created_metrics()
    body = metrics.render()[0]
    for name in (b"requests", b"request_duration_seconds", b"attempts", b"retries"):
        assert b"seawall_" + name + b"_created{" in body


def test_registering_names_the_families_without_collecting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """describe() names the families, so registration never collects and names stay reserved."""

    def refuse(self: CallMetrics) -> Iterator[object]:
        raise AssertionError("collect called at registration")

    monkeypatch.setattr(CallMetrics, "collect", refuse)
    metrics = Metrics()  # registers the collector
    CollectorRegistry(auto_describe=True).register(CallMetrics(DURATION_BUCKETS))
    for name in ("seawall_requests_total", "seawall_attempts_total"):
        with pytest.raises(ValueError, match="Duplicated"):
            Counter(name, "x", registry=metrics.registry)
    with pytest.raises(ValueError, match="Duplicated"):
        Histogram("seawall_request_duration_seconds", "x", registry=metrics.registry)
    with pytest.raises(ValueError, match="Duplicated"):
        metrics.register_gauge_callback(
            "seawall_request_duration_seconds_count", "x", ("integration",), dict
        )


@pytest.mark.parametrize(
    ("buckets", "message"),
    [((1.0, 0.5), "Buckets not in sorted order"), ((), "Must have at least two buckets")],
)
def test_bad_buckets_are_refused_as_prometheus_client_refused_them(
    buckets: tuple[float, ...], message: str
) -> None:
    """Unsorted or too few buckets raise the ValueError the Histogram raised."""
    with pytest.raises(ValueError, match=message):
        Histogram("h", "h", buckets=buckets, registry=CollectorRegistry())
    with pytest.raises(ValueError, match=message):
        Metrics(buckets=buckets)


def test_handlers_name_each_event_type_and_count_like_emit() -> None:
    """handlers maps event types to the functions emit calls; calling them counts the same."""
    via_emit, direct = Metrics(), Metrics()
    assert set(direct.handlers) >= {CallFinished, AttemptFinished, RetryScheduled}
    assert set(direct.handlers) == set(via_emit.handlers)
    for event in ordinary_events():
        via_emit.emit(event)
        direct.handlers[type(event)](event)
    assert call_families(direct) == call_families(via_emit)
    assert call_families(direct, OPENMETRICS) == call_families(via_emit, OPENMETRICS)


def test_a_handler_raises_on_a_malformed_event_where_emit_does_not() -> None:
    """A handler may raise (the fan-out catches); emit swallows, both leave the histogram untouched."""
    metrics = Metrics()
    bad = call(duration=None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        metrics.handlers[CallFinished](bad)
    metrics.emit(bad)
    reference = Reference(DURATION_BUCKETS)
    reference.emit(bad)
    reference.emit(bad)
    assert call_families(metrics) == reference.render()


def test_scrapes_while_new_series_appear_never_fail() -> None:
    """A scrape on another thread while every event adds series succeeds, and the totals add up."""
    metrics = Metrics(buckets=(0.5, 1.0))
    errors: list[BaseException] = []
    scrapes = 0
    stop = threading.Event()

    def scrape() -> None:
        nonlocal scrapes
        try:
            while not stop.is_set():
                for _ in metrics.registry.collect():  # what render walks, without the formatting
                    pass
                scrapes += 1
        except BaseException as exc:  # pragma: no cover - the failure this test looks for
            errors.append(exc)

    scraper = threading.Thread(target=scrape)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-4)  # switch threads often, inside the scrape's loops
    scraper.start()
    emitted = 0
    try:
        while (scrapes < 5 or emitted < 1000) and not errors and emitted < 5000:
            metrics.emit(attempt(provider=f"p{emitted}"))
            metrics.emit(call(provider=f"p{emitted}", duration=emitted / 1000))
            emitted += 1
    finally:
        stop.set()
        scraper.join()
        sys.setswitchinterval(interval)
    assert errors == []
    totals: dict[str, float] = {}
    for family in metrics.registry.collect():
        for sample in family.samples:
            totals[sample.name] = totals.get(sample.name, 0.0) + sample.value
    assert totals["seawall_requests_total"] == emitted
    assert totals["seawall_attempts_total"] == emitted
    assert totals["seawall_request_duration_seconds_count"] == emitted


def test_promtool_accepts_the_exposition() -> None:
    """promtool check metrics finds no problem in the rendered families."""
    promtool = shutil.which("promtool")
    if promtool is None:  # pragma: no cover - Debian's prometheus package provides it
        pytest.skip("promtool is not installed")
    metrics = Metrics()
    for event in ordinary_events():
        metrics.emit(event)
    result = subprocess.run(
        [promtool, "check", "metrics"],
        input=metrics.render()[0],
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()
