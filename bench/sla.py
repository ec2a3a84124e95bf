"""Benchmark: a month's SLA reports from 30 days of minute rollups, against a plain GROUP BY.

    .venv/bin/python bench/sla.py            # 50 integrations: 2,160,000 minute rows, ~1-2 min
    .venv/bin/python bench/sla.py --reuse    # reuse the generated store file if it is there
    .venv/bin/python bench/sla.py --quick    # 5 integrations: a smoke run
    .venv/bin/python bench/sla.py --json     # results as JSON on stdout

A SQLite store (a file under the system's temporary directory, kept for
``--reuse``) holds 50 integrations x 30 days x 1,440 minute rows of November
2026 -- random traffic per minute (successes, declines, throttles, seawall's
own rejections, the odd failure, a latency histogram), a few outages per
integration and a few planned maintenance windows -- and the hour rows the
store keeps beside them. It is written with ``executemany`` in one
transaction; the hour rows with one ``INSERT ... SELECT ... GROUP BY``.

Then, best of 3 each:

* **seawall**: the 50 SLA reports (one SLA per integration, by minutes with a
  latency objective, or by calls) as ``seawall sla report`` builds them:
  per SLA one ``Rollups.sla_summary`` and ``build_summary_report``;
* **baseline**: one plain ``SELECT integration, provider, SUM(...) FROM
  rollups_minute WHERE start >= ? AND start < ? GROUP BY integration,
  provider`` over the month, every value column summed, on a plain ``sqlite3``
  connection. SQLite plans it through the index on ``start`` and a temporary
  B-tree; the same query with ``+start`` (a full scan in primary-key order,
  grouped without a sort) is timed too, as the harder baseline.

The target is printed, never asserted: seawall no slower than 1.2x the
baseline. One SLA's report is also built from every row (``Rollups.query``
and ``build_report``) and compared with the fast path's: equal, but for the
mean latency's last bits (``latency_sum`` is a float, added in another order).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from seawall.config import Sla
from seawall.sla import SlaReport, build_report, month_bounds
from seawall.store import LATENCY_BOUNDS, Store
from seawall.store._schema import ROLLUP_VALUES
from seawall.web import measure_slas

MONTH = "2026-11"
START, END = (int(t) for t in month_bounds(MONTH))
DAYS = 30
MINUTES = DAYS * 1440
TARGET = 1.2
#: bumped when the generated data changes, so --reuse never reads an old file
DATA_VERSION = 2
BUCKETS = len(LATENCY_BOUNDS) + 1
PROVIDER = "primary"


@dataclass(frozen=True)
class Sizes:
    integrations: int
    repeats: int = 3


def _profiles(rng: random.Random, count: int = 4096) -> list[tuple[Any, ...]]:
    """Typical minutes of one provider: the ROLLUP_VALUES of a minute row."""
    out = []
    for _ in range(count):
        calls = rng.randint(30, 240)  # one failure alone is under 5%
        throttled = rng.randint(1, 4) if rng.random() < 0.05 else 0
        rejected = rng.randint(1, 3) if rng.random() < 0.02 else 0
        failure = 1 if rng.random() < 0.05 else 0
        timeout = 1 if rng.random() < 0.01 else 0
        final = round(calls * rng.uniform(0.01, 0.05))  # declines: the vendor working
        success = calls - final - failure - timeout
        attempts = calls + throttled
        latency = [0] * BUCKETS
        for _ in range(attempts):
            latency[min(BUCKETS - 1, max(0, round(rng.gauss(6.5, 1.6))))] += 1
        retries = failure + timeout
        row = (attempts, success, final, throttled, failure, timeout, 0, rejected)
        row += (calls + rejected, retries, 0, round(attempts * rng.uniform(0.1, 0.3), 3))
        out.append((*row, *latency))
    return out


def _outage(rng: random.Random) -> tuple[Any, ...]:
    calls = rng.randint(20, 240)
    bad = round(calls * rng.uniform(0.08, 1.0))
    timeout = bad // 3
    latency = [0] * BUCKETS
    latency[LATENCY_BOUNDS.index(2.0)] = calls - timeout
    latency[LATENCY_BOUNDS.index(10.0)] = timeout
    row = (calls, calls - bad, 0, 0, bad - timeout, timeout, 0, 0, calls, bad, 0)
    return (*row, calls * 2.5, *latency)


def _windows(rng: random.Random, integrations: int) -> list[tuple[str, float, float]]:
    """A few planned maintenance windows: every fifth integration, at night, 30-150 minutes."""
    out = []
    for index in range(0, integrations, 5):
        for _ in range(rng.randint(1, 3)):
            start = START + rng.randrange(DAYS) * 86400 + rng.randrange(1, 5) * 3600 + 30
            out.append((_name(index), float(start), float(start + rng.randint(30, 150) * 60)))
    return out


def _name(index: int) -> str:
    return f"integration-{index:02d}"


def generate(path: Path, integrations: int) -> float:
    """Write the store file; returns the seconds it took."""
    began = time.perf_counter()
    for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        stale.unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)

    async def migrate() -> None:
        async with await Store.open(f"sqlite:///{path}"):
            pass

    asyncio.run(migrate())
    rng = random.Random(20261101)
    pool = _profiles(rng)
    columns = ", ".join(["integration", "provider", "start", *ROLLUP_VALUES])
    marks = ", ".join("?" * (3 + len(ROLLUP_VALUES)))
    sums = ", ".join(f"SUM({c})" for c in ROLLUP_VALUES)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("BEGIN")
        for index in range(integrations):
            name = _name(index)
            outage: set[int] = set()
            for _ in range(rng.randint(0, 4)):
                first = rng.randrange(MINUTES)
                outage.update(range(first, first + rng.randint(1, 40)))
            picks = rng.choices(range(len(pool)), k=MINUTES)
            rows = [
                (name, PROVIDER, START + 60 * m, *(_outage(rng) if m in outage else pool[k]))
                for m, k in enumerate(picks)
            ]
            conn.executemany(f"INSERT INTO rollups_minute ({columns}) VALUES ({marks})", rows)
            progress(f"generated {index + 1}/{integrations} integrations")
        conn.execute(
            f"INSERT INTO rollups_hour ({columns}) "
            f"SELECT integration, provider, start - start % 3600, {sums} FROM rollups_minute "
            "GROUP BY integration, provider, start - start % 3600"
        )
        conn.executemany(
            "INSERT INTO maintenance_windows "
            '(integration, provider, start, "end", planned, reason) '
            "VALUES (?, ?, ?, ?, 1, 'vendor maintenance')",
            [(name, PROVIDER, start, end) for name, start, end in _windows(rng, integrations)],
        )
        conn.execute("CREATE TABLE bench_meta (version INTEGER, integrations INTEGER)")
        conn.execute("INSERT INTO bench_meta VALUES (?, ?)", (DATA_VERSION, integrations))
        conn.execute("COMMIT")
    finally:
        conn.close()
    return time.perf_counter() - began


def reusable(path: Path, integrations: int) -> bool:
    if not path.exists():
        return False
    try:
        with sqlite3.connect(path) as conn:
            found = conn.execute("SELECT version, integrations FROM bench_meta").fetchone()
    except sqlite3.Error:
        return False
    return found == (DATA_VERSION, integrations)


def slas(integrations: int) -> dict[str, Sla]:
    """One SLA per integration: by minutes with a latency objective, every third by calls."""
    out = {}
    for index in range(integrations):
        objectives: list[dict[str, Any]] = [
            {"metric": "availability", "target": "99.9%"},
            {"metric": "latency", "percentile": 95, "threshold": "800ms", "target": "99%"},
        ]
        if index % 3 == 2:
            objectives[0] = {"metric": "availability", "target": "99.5%", "measure": "calls"}
        out[f"sla-{index:02d}"] = Sla.model_validate(
            {
                "provider": f"{_name(index)}/{PROVIDER}",
                "objectives": objectives,
                "credits": [
                    {"below": "99.9%", "credit": "10%"},
                    {"below": "99%", "credit": "25%"},
                ],
                "monthly_fee": 1500,
                "support": {"response_time": "1h", "resolution_time": "8h"},
            }
        )
    return out


def compare(reference: SlaReport, fast: SlaReport) -> str:
    """Whether the fast path's report is the row path's: equal, or but for float rounding."""
    if fast == reference:
        return "equal"
    mean, expected = fast.latency.mean, reference.latency.mean
    if mean is not None and expected is not None:
        same = replace(fast, latency=replace(fast.latency, mean=expected))
        if same == reference:
            drift = abs(mean - expected) / expected if expected else abs(mean)
            return f"equal but the mean latency's float rounding (relative {drift:.0e})"
    return "DIFFERENT"


def best(repeats: int, work: Any) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeats):
        began = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - began)
    return min(times), result


def baseline(path: Path, *, scan: bool) -> list[tuple[Any, ...]]:
    column = "+start" if scan else "start"
    sums = ", ".join(f"SUM({c})" for c in ROLLUP_VALUES)
    query = (
        f"SELECT integration, provider, {sums} FROM rollups_minute "
        f"WHERE {column} >= ? AND {column} < ? GROUP BY integration, provider"
    )
    conn = sqlite3.connect(path)
    try:
        return conn.execute(query, (START, END)).fetchall()
    finally:
        conn.close()


async def _open(path: Path) -> Store:
    return await Store.open(f"sqlite:///{path}", migrate=False)


def run(args: argparse.Namespace, sizes: Sizes) -> dict[str, Any]:
    path = Path(tempfile.gettempdir()) / "seawall-bench-sla" / f"month-{sizes.integrations}.db"
    generated = None
    if args.reuse and reusable(path, sizes.integrations):
        progress(f"reusing {path}")
    else:
        generated = generate(path, sizes.integrations)
    contracts = slas(sizes.integrations)
    now = float(END + 3600)  # the month is over: final numbers
    loop = asyncio.new_event_loop()
    store = loop.run_until_complete(_open(path))
    try:

        def reports() -> Any:
            coroutine = measure_slas(store, contracts, month=MONTH, now=now)
            return loop.run_until_complete(coroutine).reports

        progress("timing seawall's reports")
        seawall_time, built = best(sizes.repeats, reports)
        progress("timing the baseline GROUP BY")
        plain_time, grouped = best(sizes.repeats, lambda: baseline(path, scan=False))
        scan_time, _ = best(sizes.repeats, lambda: baseline(path, scan=True))
        progress("building one report from every row, to compare")
        name, sla = next(iter(contracts.items()))
        began = time.perf_counter()
        integration, provider = sla.provider.split("/")
        rows = loop.run_until_complete(
            store.rollups.query(start=START, end=END, integration=integration, provider=provider)
        )
        found = loop.run_until_complete(
            store.rollups.windows(
                start=START, end=END, integration=integration, provider=provider, planned=True
            )
        )
        windows = [(w.start, END if w.end is None else w.end) for w in found]
        reference = build_report(
            name, sla, rows, windows, period_start=START, period_end=END, now=now
        )
        row_path = time.perf_counter() - began
    finally:
        loop.run_until_complete(store.close())
        loop.close()
    minute_rows = sizes.integrations * MINUTES
    availability = [r.availability.value for r in built if r.availability is not None]
    return {
        "integrations": sizes.integrations,
        "minute_rows": minute_rows,
        "store": str(path),
        "generated_seconds": generated,
        "seawall_seconds": seawall_time,
        "baseline_seconds": plain_time,
        "baseline_scan_seconds": scan_time,
        "ratio": seawall_time / plain_time,
        "ratio_scan": seawall_time / scan_time,
        "target": TARGET,
        "pass": seawall_time <= TARGET * plain_time,
        "pass_scan": seawall_time <= TARGET * scan_time,
        "reports": len(built),
        "groups": len(grouped),
        "breaches": sum(len(r.breaches) for r in built),
        "slas_met": sum(r.met for r in built),
        "lowest_availability": min(availability, default=None),
        "row_path_seconds_one_sla": row_path,
        "row_path_rows_one_sla": len(rows),
        "row_path_comparison": compare(reference, built[0]),
    }


def render(result: dict[str, Any]) -> str:
    verdict = "PASS" if result["pass"] else "MISS"
    verdict_scan = "PASS" if result["pass_scan"] else "MISS"
    made = result["generated_seconds"]
    lines = [
        f"SLA reports for {MONTH}: {result['integrations']} integrations, "
        f"{result['minute_rows']:,} minute rows ({result['store']})",
        f"  data: {'reused' if made is None else f'generated in {made:.1f} s'}",
        f"  seawall, {result['reports']} reports (sla_summary + build_summary_report), "
        f"best of 3:  {result['seawall_seconds']:.3f} s",
        f"  baseline GROUP BY ({result['groups']} groups), as SQLite plans it:  "
        f"{result['baseline_seconds']:.3f} s",
        f"  baseline GROUP BY as a primary-key scan (+start):  "
        f"{result['baseline_scan_seconds']:.3f} s",
        f"  ratio {result['ratio']:.2f}x  (target <= {TARGET}x): {verdict}",
        f"  ratio vs the scan {result['ratio_scan']:.2f}x  (target <= {TARGET}x): {verdict_scan}",
        f"  {result['breaches']} breaches, {result['slas_met']} of {result['reports']} SLAs met, "
        f"lowest availability {result['lowest_availability']:.5f}",
        f"  one SLA from all {result['row_path_rows_one_sla']:,} rows (query + build_report): "
        f"{result['row_path_seconds_one_sla']:.2f} s; "
        f"fast path's report: {result['row_path_comparison']}",
    ]
    return "\n".join(lines) + "\n"


def progress(message: str) -> None:
    print(f"  .. {message}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="5 integrations: a smoke run")
    parser.add_argument("--json", action="store_true", help="print JSON results on stdout")
    parser.add_argument(
        "--reuse", action="store_true", help="reuse the generated store file when present"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sizes = Sizes(integrations=5 if args.quick else 50)
    result = run(args, sizes)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(render(result), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
