"""``seawall alerts`` and ``seawall incident`` on a real SQLite store, as an operator runs them."""

from __future__ import annotations

import asyncio
import json
import textwrap
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from seawall.alerts import Transition
from seawall.cli import app
from seawall.config import load_config
from seawall.incidents import IncidentBook
from seawall.store import Store

HOUR = 3600.0
runner = CliRunner()


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "seawall.yaml"
    path.write_text(
        textwrap.dedent(
            f"""
            version: 1
            store: "sqlite:///{tmp_path / "state.db"}"
            integrations:
              payments:
                criticality: critical
                impact_per_minute: 500
                providers: [{{name: stripe, base_url: "http://127.0.0.1:9"}}]
              email:
                providers: [{{name: relay, base_url: "http://127.0.0.1:9"}}]
            alerts:
              - {{name: payments-errors, integration: payments, metric: error_rate, above: 5%,
                  for: 2m, severity: critical}}
              - {{name: email-slow, integration: email, metric: latency_p95, above: 2s}}
            """
        )
    )
    return path


def _firing(rule: str, at: float, severity: str = "critical") -> Transition:
    labels = {"alertname": rule, "severity": severity, "integration": "payments"}
    return Transition(
        rule=rule,
        labels=labels,
        state="firing",
        previous="pending",
        at=at,
        value=0.4,
        threshold=0.05,
        summary="payments error rate 40% is above 5%",
        severity=severity,
        active_since=at - 120,
        fired_at=at,
    )


def _seed(path: Path) -> tuple[str, int]:
    """Three past episodes of payments-errors and one firing now, inside an incident."""
    config = load_config(path)

    async def seed() -> tuple[str, int]:
        async with await Store.open(config.store) as store:
            now = time.time()
            for hours_ago in (30, 20, 10):
                t = _firing("payments-errors", now - hours_ago * HOUR)
                await store.alerts.open(t)
                await store.alerts.resolve(t.fingerprint, now - hours_ago * HOUR + 600)
            book = IncidentBook(store, config)
            live = _firing("payments-errors", now - 60)
            change = await book.on_transition(live)
            assert change is not None
            return live.fingerprint, change.incident.id

    return asyncio.run(seed())


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_review_reports_each_rule_from_its_episodes(tmp_path: Path) -> None:
    path = _config(tmp_path)
    _seed(path)
    code, out = _run("alerts", "review", "-c", str(path), "--since", "2d", "--format", "json")
    assert code == 0, out
    rules = {r["rule"]: r for r in json.loads(out)["rules"]}
    assert rules["payments-errors"]["fired"] == 4
    assert "never fired" in rules["email-slow"]["flags"]
    code, text = _run("alerts", "review", "-c", str(path), "--since", "2d")
    assert code == 0, text
    assert "payments-errors" in text
    assert "email-slow" in text
    code, out = _run("alerts", "review", "-c", str(path), "--since", "soon")
    assert code == 2
    assert "--since" in out


def test_silence_add_list_expire(tmp_path: Path) -> None:
    path = _config(tmp_path)
    _seed(path)
    code, out = _run(
        "alerts", "silence", "add", "-c", str(path), "--match", "integration=payments",
        "--for", "2h", "--comment", "vendor upgrade", "--by", "ada",
    )  # fmt: skip
    assert code == 0, out
    silence_id = out.split()[1]
    code, out = _run("alerts", "silence", "list", "-c", str(path), "--json")
    assert code == 0, out
    (shown,) = json.loads(out)["silences"]
    assert shown["id"] == silence_id
    assert shown["matchers"] == {"integration": "payments"}
    assert shown["active"] is True
    assert shown["created_by"] == "ada"
    code, out = _run("alerts", "silence", "expire", silence_id, "-c", str(path))
    assert code == 0, out
    code, out = _run("alerts", "silence", "list", "-c", str(path), "--json")
    assert json.loads(out)["silences"] == [], "an ended silence is history, not listed"
    code, out = _run("alerts", "silence", "expire", "no-such-silence", "-c", str(path))
    assert code == 1
    assert "no live silence" in out


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--match", "payments"], "label=value"),
        (["--match", "integration=payments", "--for", "forever"], "--for"),
        (["--match", "integration=payments", "--for", "0s"], "longer than zero"),
    ],
)
def test_silence_bad_input_is_a_clear_usage_error(
    tmp_path: Path, args: list[str], says: str
) -> None:
    path = _config(tmp_path)
    _seed(path)
    code, out = _run("alerts", "silence", "add", "-c", str(path), *args)
    assert code == 2
    assert says in out
    assert "Traceback" not in out


def test_ack_an_alert_by_fingerprint(tmp_path: Path) -> None:
    path = _config(tmp_path)
    fingerprint, _ = _seed(path)
    code, out = _run("alerts", "ack", fingerprint, "-c", str(path), "--by", "ada")
    assert code == 0, out

    async def acked() -> str | None:
        async with await Store.open(load_config(path).store) as store:
            (episode,) = await store.alerts.open_episodes()
            return episode.acked_by

    assert asyncio.run(acked()) == "ada"
    assert _run("alerts", "ack", "0123456789abcdef", "-c", str(path))[0] == 1
    code, out = _run("alerts", "ack", "not-a-fingerprint", "-c", str(path))
    assert code == 2
    assert "16 hex digits" in out


def test_incident_list_ack_notes_report_resolve(tmp_path: Path) -> None:
    path = _config(tmp_path)
    _, incident = _seed(path)
    code, out = _run("incident", "list", "-c", str(path))
    assert code == 0, out
    assert f"#{incident}" in out
    assert "open" in out
    code, out = _run("incident", "ack", str(incident), "-c", str(path), "--by", "ada")
    assert code == 0, out
    code, out = _run("incident", "ack", str(incident), "-c", str(path))
    assert code == 1
    assert "cannot be acknowledged" in out
    code, out = _run(
        "incident", "notes", str(incident), "-c", str(path),
        "--root-cause", "the vendor's database failed over",
        "--prevention", "alert on the vendor's status page",
    )  # fmt: skip
    assert code == 0, out
    code, report = _run("incident", "report", str(incident), "-c", str(path))
    assert code == 0, report
    assert "the vendor's database failed over" in report
    assert "alert on the vendor's status page" in report
    assert "payments-errors" in report
    code, out = _run("incident", "resolve", str(incident), "-c", str(path), "--by", "ada")
    assert code == 0, out
    code, out = _run("incident", "list", "-c", str(path), "--json")
    (shown,) = json.loads(out)["incidents"]
    assert shown["state"] == "resolved"
    assert shown["acknowledged_by"] == "ada"
    code, out = _run("incident", "report", "999", "-c", str(path))
    assert code == 1
    assert "no incident 999" in out


def test_commands_refuse_a_missing_store(tmp_path: Path) -> None:
    path = _config(tmp_path)
    for args in (
        ["incident", "list", "-c", str(path)],
        ["alerts", "review", "-c", str(path)],
        ["alerts", "silence", "list", "-c", str(path)],
    ):
        code, out = _run(*args)
        assert code == 1, (args, out)
        assert "no store at" in out


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["alerts", "ack", "0123456789abcdef", "--by", "x" * 200], "--by"),
        (["incident", "ack", "1", "--by", "x" * 200], "--by"),
        (["incident", "report", "99999999999999999999999"], "Invalid value for"),
        (["alerts", "silence", "add", "--match", "a=b", "--for", "99999999999d"], "at most 30d"),
        (["alerts", "review", "--since", "5000d"], "at most"),
    ],
)
def test_out_of_range_input_is_refused_clearly(tmp_path: Path, args: list[str], says: str) -> None:
    path = _config(tmp_path)
    _seed(path)
    code, out = _run(*args, "-c", str(path))
    assert code == 2, out
    assert says in out
    assert "Traceback" not in out
    assert "internal error" not in out
