"""RecentCalls: the last calls per integration, counted when asked."""

from __future__ import annotations

from seawall._events import CallFinished
from seawall.web._recent import RecentCalls


def finished(outcome: str, n: int, integration: str = "pay") -> CallFinished:
    return CallFinished(
        at=float(n),
        integration=integration,
        provider="a",
        method="POST",
        outcome=outcome,
        status=200 if outcome == "success" else 503,
        attempts=1,
        duration=0.0125,
    )


def test_only_the_last_size_calls_count() -> None:
    recent = RecentCalls(size=4)
    for n in range(3):
        recent.emit(finished("failure", n))
    for n in range(3, 7):
        recent.handlers[CallFinished](finished("success", n))
    summary = recent.summary("pay")
    assert summary["calls"] == 4
    assert summary["outcomes"] == {"success": 4}
    assert summary["error_rate"] == 0.0


def test_outcomes_error_rate_and_the_last_ten() -> None:
    recent = RecentCalls()
    outcomes = ["success", "final", "failure", "circuit-open"] * 5
    for n, outcome in enumerate(outcomes):
        recent.emit(finished(outcome, n))
    recent.emit(finished("success", 99, integration="other"))
    summary = recent.summary("pay")
    assert summary["calls"] == 20
    assert summary["outcomes"] == {"success": 5, "final": 5, "failure": 5, "circuit-open": 5}
    assert summary["error_rate"] == 0.5
    last = summary["last"]
    assert isinstance(last, list)
    assert len(last) == 10
    assert last[-1] == {
        "provider": "a",
        "method": "POST",
        "outcome": "circuit-open",
        "status": 503,
        "attempts": 1,
        "duration_ms": 12.5,
    }
    assert recent.summary("none") == {"calls": 0, "outcomes": {}, "error_rate": 0.0, "last": []}
