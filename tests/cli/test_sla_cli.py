"""``seawall sla report`` as an operator runs it against a store: formats, files, exit codes."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from seawall.config import load_config
from seawall.sla import build_report, load_json, month_bounds
from seawall.store import LATENCY_BOUNDS, RollupRow, Store
from seawall.web import current_month

pytestmark = [pytest.mark.slow]

MONTH = "2026-10"  # a month that is over
START, END = month_bounds(MONTH)


def _run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "seawall", "sla", "report", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
        check=False,
    )


def _config(tmp_path: Path, store: str) -> Path:
    path = tmp_path / "seawall.yaml"
    path.write_text(
        "version: 1\n"
        f'store: "{store}"\n'
        "integrations:\n"
        "  payments:\n"
        "    providers:\n"
        "      - {name: stripe, base_url: 'https://api.stripe.example'}\n"
        "      - {name: adyen, role: backup, base_url: 'https://api.adyen.example'}\n"
        "slas:\n"
        "  stripe-standard:\n"
        "    provider: payments/stripe\n"
        "    objectives:\n"
        "      - {metric: availability, target: 99.99%}\n"
        "      - {metric: latency, percentile: 95, threshold: 800ms, target: 99%}\n"
        "    support: {response_time: 1h, resolution_time: 8h}\n"
        "    credits:\n"
        "      - {below: 99.99%, credit: 10%}\n"
        "      - {below: 99.9%, credit: 25%}\n"
        "    monthly_fee: 2000\n"
        "  adyen-calls:\n"
        "    provider: payments/adyen\n"
        "    objectives: [{metric: availability, target: 99.5%, measure: calls}]\n"
    )
    return path


def _minute(provider: str, minute: int, *, good: int, bad: int = 0) -> RollupRow:
    latency = [0] * (len(LATENCY_BOUNDS) + 1)
    latency[LATENCY_BOUNDS.index(0.25)] = good
    latency[LATENCY_BOUNDS.index(2.0)] = bad
    return RollupRow(
        integration="payments",
        provider=provider,
        start=int(START) + 60 * minute,
        width=60,
        attempts=good + bad,
        success=good,
        failure=bad,
        latency_sum=(good + 8 * bad) / 4,  # quarters of a second: float sums are exact
        latency=tuple(latency),
    )


async def _fill(url: str) -> None:
    """A quiet October: steady traffic, two outages (one partly in maintenance)."""
    async with await Store.open(url) as store:
        rows = [_minute(p, m, good=10) for p in ("stripe", "adyen") for m in range(0, 44640, 7)]
        rows += [_minute("stripe", m, good=2, bad=8) for m in (*range(600, 606), 9000)]
        await store.rollups.add(rows)
        await store.rollups.open_window("payments", "stripe", start=START + 9000 * 60)
        await store.rollups.close_window("payments", "stripe", end=START + 9030 * 60)


@pytest.fixture
def filled(tmp_path: Path) -> Path:
    """A configuration whose SQLite store holds October's rollups."""
    asyncio.run(_fill(f"sqlite:///{tmp_path / 'state.db'}"))
    return _config(tmp_path, f"sqlite:///{tmp_path / 'state.db'}")


def test_json_is_the_report_built_from_every_row(filled: Path) -> None:
    """--format json prints the reports that build_report makes from all of the month's rows."""
    result = _run(filled.parent, "-c", str(filled), "--month", MONTH, "--format", "json")
    assert result.returncode == 0, result.stderr
    reports = load_json(result.stdout)
    assert [r.name for r in reports] == ["stripe-standard", "adyen-calls"]
    slas = load_config(filled).slas

    async def expected() -> list[object]:
        async with await Store.open(f"sqlite:///{filled.parent / 'state.db'}") as store:
            out = []
            for report in reports:
                integration, provider = slas[report.name].provider.split("/")
                rows = await store.rollups.query(
                    start=START, end=END, integration=integration, provider=provider
                )
                found = await store.rollups.windows(
                    start=START, end=END, integration=integration, provider=provider, planned=True
                )
                windows = [(w.start, w.end or END) for w in found]
                out.append(
                    build_report(
                        report.name,
                        slas[report.name],
                        rows,
                        windows,
                        period_start=START,
                        period_end=END,
                        now=report.as_of,
                    )
                )
            return out

    assert reports == asyncio.run(expected())
    stripe = reports[0]
    assert [(b.start, b.minutes) for b in stripe.breaches] == [(START + 600 * 60, 6)]
    assert stripe.availability is not None
    assert stripe.availability.excluded == 30
    assert stripe.credit.amount == 200.0  # 6 bad minutes of 44,610: under 99.99%, 10% of 2000


def test_markdown_is_the_default(filled: Path) -> None:
    """Without --format: Markdown with objectives, breaches, the credit in money and support times."""
    result = _run(filled.parent, "-c", str(filled), "--month", MONTH)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("# SLA report")
    for text in ("stripe-standard", "adyen-calls", "2026-10-01T10:00:00Z", "200.00", "1h"):
        assert text in result.stdout, text


def test_html_with_charts_goes_to_the_output_file(filled: Path) -> None:
    """--format html -o FILE writes a standalone page with SVG charts; nothing on standard output."""
    out = filled.parent / "report.html"
    result = _run(
        filled.parent, "-c", str(filled), "--month", MONTH, "--format", "html", "-o", str(out)
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert f"wrote {out}" in result.stderr
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("<svg") >= 4  # availability and latency per day, for each SLA
    assert "2026-10-31" in page


def test_one_sla_and_an_unknown_one(filled: Path) -> None:
    """--sla picks one report; an unknown name exits 2 and lists the configured SLAs."""
    result = _run(
        filled.parent,
        "-c",
        str(filled),
        "--month",
        MONTH,
        "--sla",
        "adyen-calls",
        "--format",
        "json",
    )
    assert result.returncode == 0, result.stderr
    assert [r["name"] for r in json.loads(result.stdout)["reports"]] == ["adyen-calls"]
    result = _run(filled.parent, "-c", str(filled), "--sla", "stripe-premium")
    assert result.returncode == 2
    assert "stripe-premium" in result.stderr
    assert "stripe-standard, adyen-calls" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("month", ["2026-13", "November", "26-11", "0000-01"])
def test_a_bad_month_exits_2(filled: Path, month: str) -> None:
    """A month that is not YYYY-MM is bad input: exit 2 with a hint, no traceback."""
    result = _run(filled.parent, "-c", str(filled), "--month", month)
    assert result.returncode == 2, result.stderr
    assert "seawall:" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_empty_store_reports_the_current_month_without_traffic(tmp_path: Path) -> None:
    """A migrated store with no rollups: this month's report, 100% with no traffic noted."""
    url = f"sqlite:///{tmp_path / 'state.db'}"

    async def migrate() -> None:
        async with await Store.open(url):
            pass

    asyncio.run(migrate())
    result = _run(tmp_path, "-c", str(_config(tmp_path, url)), "--format", "json")
    assert result.returncode == 0, result.stderr
    reports = load_json(result.stdout)
    assert {r.period.label for r in reports} == {current_month(reports[0].as_of)}
    for report in reports:
        assert report.availability is not None
        assert report.availability.value == 1.0
        assert report.availability.no_traffic
        assert report.availability.note


def test_a_store_without_tables_still_reports_and_is_not_migrated(tmp_path: Path) -> None:
    """An unmigrated database gives the no-traffic report, says so, and is left as it was."""
    database = tmp_path / "state.db"
    database.touch()
    result = _run(tmp_path, "-c", str(_config(tmp_path, f"sqlite:///{database}")), "--month", MONTH)
    assert result.returncode == 0, result.stderr
    assert "holds no seawall data yet" in result.stderr
    assert "no vendor traffic" in result.stdout

    async def revision() -> str | None:
        async with await Store.open(f"sqlite:///{database}", migrate=False) as store:
            return await store.revision()

    assert asyncio.run(revision()) is None


def test_a_missing_store_file_exits_1_and_creates_nothing(tmp_path: Path) -> None:
    """No store file: exit 1 naming it; the report never creates an empty database."""
    database = tmp_path / "nowhere" / "state.db"
    result = _run(tmp_path, "-c", str(_config(tmp_path, f"sqlite:///{database}")))
    assert result.returncode == 1
    assert str(database) in result.stderr
    assert not database.parent.exists()


def test_a_store_that_cannot_be_reached_exits_1(tmp_path: Path) -> None:
    """A PostgreSQL store nobody listens for: exit 1 with the store's error, password hidden."""
    url = "postgresql://seawall:hunter2-secret@127.0.0.1:9/seawall"
    result = _run(tmp_path, "-c", str(_config(tmp_path, url)), "--month", MONTH)
    assert result.returncode == 1
    assert "seawall: store" in result.stderr
    assert "hunter2-secret" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_an_invalid_configuration_exits_2(tmp_path: Path) -> None:
    """Findings go to standard error and the exit status is 2, as for seawall check."""
    path = tmp_path / "seawall.yaml"
    path.write_text("version: 1\nslas:\n  broken: {provider: nowhere}\n")
    result = _run(tmp_path, "-c", str(path))
    assert result.returncode == 2
    assert "slas" in result.stderr
    assert result.stdout == ""


def test_an_unwritable_output_exits_1(filled: Path) -> None:
    """-o into a directory that does not exist: exit 1, the reason, no traceback."""
    result = _run(
        filled.parent,
        "-c",
        str(filled),
        "--month",
        MONTH,
        "-o",
        str(filled.parent / "no" / "such" / "r.md"),
    )
    assert result.returncode == 1
    assert "cannot write" in result.stderr
    assert "Traceback" not in result.stderr
