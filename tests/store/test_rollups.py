"""Rollups and maintenance windows on SQLite and PostgreSQL: exact upserts, queries, downsampling."""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Iterable

import pytest

from seawall.store import LATENCY_BOUNDS, RollupRow, Store
from tests.store.conftest import OpenStore

#: an hour-aligned Unix time (1_700_000_000 is not)
H0 = 1_699_999_200
BUCKETS = len(LATENCY_BOUNDS) + 1
COUNTS = (
    "attempts",
    "success",
    "final",
    "throttled",
    "failure",
    "timeout",
    "connect_error",
    "rejected",
    "calls",
    "retries",
    "failovers",
)


def row(
    integration: str = "payments",
    provider: str = "stripe",
    start: int = H0,
    width: int = 60,
    *,
    latency: dict[int, int] | None = None,
    latency_sum: float = 0.0,
    **counts: int,
) -> RollupRow:
    buckets = [0] * BUCKETS
    for index, count in (latency or {}).items():
        buckets[index] = count
    return RollupRow(
        integration=integration,
        provider=provider,
        start=start,
        width=width,
        latency_sum=latency_sum,
        latency=tuple(buckets),
        **counts,
    )


def random_rows(
    rng: random.Random, *, hours: int, pairs: Iterable[tuple[str, str]]
) -> list[RollupRow]:
    rows = []
    for integration, provider in pairs:
        for minute in range(hours * 60):
            if rng.random() < 0.2:
                continue  # quiet minutes have no row
            success, failure = rng.randint(0, 50), rng.randint(0, 5)
            rows.append(
                row(
                    integration,
                    provider,
                    H0 + minute * 60,
                    attempts=success + failure,
                    success=success,
                    failure=failure,
                    timeout=rng.randint(0, 2),
                    rejected=rng.randint(0, 3),
                    calls=success,
                    retries=failure,
                    failovers=rng.randint(0, 1),
                    latency={rng.randrange(BUCKETS): success, rng.randrange(BUCKETS): failure},
                    latency_sum=rng.random() * 10,
                )
            )
    return rows


def total(rows: Iterable[RollupRow]) -> tuple[int, ...]:
    """Every integer count of ``rows`` summed (counts, then latency buckets)."""
    sums = [0] * (len(COUNTS) + BUCKETS)
    for r in rows:
        values = [getattr(r, name) for name in COUNTS] + list(r.latency)
        sums = [a + b for a, b in zip(sums, values, strict=True)]
    return tuple(sums)


async def test_add_upserts_by_adding_counts(store: Store) -> None:
    """Adding a row twice, or twice in one batch, sums every column into one minute and its hour."""
    one = row(attempts=3, success=2, timeout=1, latency={0: 2, 18: 1}, latency_sum=31.5, retries=1)
    await store.rollups.add([one])
    await store.rollups.add([one, one])

    minutes = await store.rollups.query(start=H0, end=H0 + 3600, width=60)
    assert minutes == [
        row(attempts=9, success=6, timeout=3, latency={0: 6, 18: 3}, latency_sum=94.5, retries=3)
    ]
    hours = await store.rollups.query(start=H0, end=H0 + 3600, width=3600)
    assert hours == [
        row(
            width=3600,
            attempts=9,
            success=6,
            timeout=3,
            latency={0: 6, 18: 3},
            latency_sum=94.5,
            retries=3,
        )
    ]


async def test_add_rejects_malformed_rows(store: Store) -> None:
    """A width other than a minute or an hour, a misaligned start or a wrong bucket count is refused."""
    with pytest.raises(ValueError, match="60 or 3600"):
        await store.rollups.add([row(width=300)])
    with pytest.raises(ValueError, match="multiple of 60"):
        await store.rollups.add([row(start=H0 + 30)])
    with pytest.raises(ValueError, match="latency buckets"):
        await store.rollups.add(
            [RollupRow(integration="a", provider="b", start=H0, width=60, latency=(1,))]
        )
    assert await store.rollups.query(start=0, end=2 * H0) == []


async def test_query_filters_by_range_integration_and_provider(store: Store) -> None:
    """A query returns the rows whose bucket starts in [start, end), for one integration or provider."""
    await store.rollups.add(
        [
            row("payments", "stripe", H0, calls=1),
            row("payments", "stripe", H0 + 60, calls=2),
            row("payments", "adyen", H0 + 60, calls=3),
            row("email", "", H0 + 120, rejected=4),
            row("payments", "stripe", H0 + 180, calls=5),
        ]
    )
    rows = await store.rollups.query(start=H0 + 60, end=H0 + 180, width=60)
    assert [(r.integration, r.provider, r.start) for r in rows] == [
        ("email", "", H0 + 120),
        ("payments", "adyen", H0 + 60),
        ("payments", "stripe", H0 + 60),
    ]
    rows = await store.rollups.query(
        start=H0, end=H0 + 3600, integration="payments", provider="stripe"
    )
    assert [r.calls for r in rows] == [1, 2, 5]
    rows = await store.rollups.query(start=H0, end=H0 + 3600, provider="adyen")
    assert [(r.integration, r.calls) for r in rows] == [("payments", 3)]
    # Fractional bounds: a bucket starting at H0 + 60 is inside [H0 + 59.5, H0 + 60.5).
    rows = await store.rollups.query(start=H0 + 59.5, end=H0 + 60.5, integration="payments")
    assert [r.calls for r in rows] == [3, 2]
    with pytest.raises(ValueError, match="width"):
        await store.rollups.query(start=H0, end=H0 + 60, width=300)


async def test_query_without_width_returns_the_finest_complete_rows(store: Store) -> None:
    """Whole hours come as minutes while all are kept, else as the hour row; edges come as minutes."""
    await store.rollups.add([row(start=H0 + 60 * m, calls=1) for m in range(120)])
    # Hour H0+1h also gets counts that exist only as an hour row (an import).
    await store.rollups.add([row(start=H0 + 3600, width=3600, calls=10)])

    rows = await store.rollups.query(start=H0, end=H0 + 7200)
    assert [r.width for r in rows] == [60] * 60 + [3600]
    assert sum(r.calls for r in rows) == 130

    edges = await store.rollups.query(start=H0 + 1800, end=H0 + 5400)
    assert {r.width for r in edges} == {60}
    assert len(edges) == 60

    await store.rollups.downsample(older_than=H0 + 3600)
    rows = await store.rollups.query(start=H0, end=H0 + 7200)
    assert [(r.width, r.calls) for r in rows] == [(3600, 60), (3600, 70)]


async def test_totals_equal_python_sums(store: Store) -> None:
    """totals sums in SQL exactly what summing the query rows gives, for every grouping and range."""
    rng = random.Random(7)
    pairs = [("payments", "stripe"), ("payments", "adyen"), ("email", "sendgrid"), ("email", "")]
    rows = random_rows(rng, hours=3, pairs=pairs)
    await store.rollups.add(rows)
    await store.rollups.downsample(older_than=H0 + 3600)  # the first hour is hour rows only

    for start, end in [
        (H0, H0 + 3 * 3600),
        (H0 + 1234.5, H0 + 9000),
        (H0 + 3660, H0 + 3700),
        (0, 2 * H0),
    ]:
        kept = await store.rollups.query(start=start, end=end)
        totals = await store.rollups.totals(start=start, end=end)
        expected = {}
        for r in kept:
            expected.setdefault((r.integration, r.provider), []).append(r)
        assert [(t.integration, t.provider) for t in totals] == sorted(expected)
        for t in totals:
            group = expected[(t.integration, t.provider)]
            assert total([t]) == total(group)
            assert t.latency_sum == pytest.approx(sum(r.latency_sum for r in group))
            assert (t.start, t.width) == (math.ceil(start), math.ceil(end) - math.ceil(start))

        by_integration = await store.rollups.totals(start=start, end=end, group_by=("integration",))
        assert [(t.integration, t.provider) for t in by_integration] == sorted(
            {(i, "*") for i, _ in expected}
        )
        for t in by_integration:
            assert total([t]) == total(r for r in kept if r.integration == t.integration)
        (everything,) = await store.rollups.totals(start=start, end=end, group_by=())
        assert (everything.integration, everything.provider) == ("*", "*")
        assert total([everything]) == total(kept)

    only = await store.rollups.totals(start=H0, end=H0 + 3 * 3600, provider="stripe")
    assert [(t.integration, t.provider) for t in only] == [("payments", "stripe")]
    assert total(only) == total(r for r in rows if r.provider == "stripe")
    only = await store.rollups.totals(start=H0, end=H0 + 3 * 3600, integration="email")
    assert total(only) == total(r for r in rows if r.integration == "email")
    assert await store.rollups.totals(start=H0 + 10 * 3600, end=H0 + 11 * 3600) == []
    with pytest.raises(ValueError, match="group by"):
        await store.rollups.totals(start=H0, end=H0 + 60, group_by=("start",))


async def test_downsample_folds_exactly_and_is_idempotent(store: Store) -> None:
    """Downsampling removes old minute rows only; sums per hour are equal before and after, twice over."""
    rows = random_rows(
        random.Random(1), hours=3, pairs=[("payments", "stripe"), ("crm", "hubspot")]
    )
    await store.rollups.add(rows)
    before = await store.rollups.totals(start=H0, end=H0 + 3 * 3600)
    hours_before = await store.rollups.query(start=H0, end=H0 + 3 * 3600, width=3600)

    old_minutes = sum(1 for r in rows if r.start < H0 + 2 * 3600)
    # The cutoff falls mid-hour: only the two hours that ended by it are folded.
    assert await store.rollups.downsample(older_than=H0 + 2 * 3600 + 1800) == old_minutes
    assert await store.rollups.downsample(older_than=H0 + 2 * 3600 + 1800) == 0

    minutes = await store.rollups.query(start=H0, end=H0 + 3 * 3600, width=60)
    assert minutes
    assert min(r.start for r in minutes) >= H0 + 2 * 3600
    assert await store.rollups.totals(start=H0, end=H0 + 3 * 3600) == before
    assert await store.rollups.query(start=H0, end=H0 + 3 * 3600, width=3600) == hours_before
    finest = await store.rollups.query(start=H0, end=H0 + 3 * 3600)
    assert total(finest) == total(rows)
    assert [r.width for r in finest].count(3600) == 4  # two hours x two providers


async def test_purge_removes_rows_older_than_retention(store: Store) -> None:
    """Retention removes the hour (and any minute) rows of hours that ended by the cutoff."""
    await store.rollups.add([row(start=H0 + 60 * m, calls=1) for m in range(0, 180, 30)])
    assert await store.rollups.purge(older_than=H0 + 3600 + 59) == 2 + 1  # two minutes, one hour
    rows = await store.rollups.query(start=0, end=2 * H0, width=3600)
    assert [(r.start, r.calls) for r in rows] == [(H0 + 3600, 2), (H0 + 7200, 2)]
    assert await store.rollups.purge(older_than=H0 + 3600) == 0


async def test_concurrent_writers_lose_no_count(url: str, open_store: OpenStore) -> None:
    """Two replicas adding to the same rows at once end with the exact sum."""
    one, two = await open_store(url), await open_store(url)
    batch = [row(provider=p, start=H0 + 60 * m, calls=1) for m in range(30) for p in ("a", "b")]
    await asyncio.gather(*(store.rollups.add(batch) for store in (one, two) for _ in range(5)))
    (everything,) = await one.rollups.totals(start=H0, end=H0 + 3600, group_by=())
    assert everything.calls == 10 * len(batch)


async def test_a_restart_keeps_the_rollups(url: str, open_store: OpenStore) -> None:
    """Rows and windows written before closing the store are read back after reopening it."""
    store = await open_store(url)
    await store.rollups.add([row(calls=4, latency={5: 4}, latency_sum=0.8)])
    await store.rollups.open_window("payments", "stripe", start=H0, reason="upgrade")
    await store.close()

    reopened = await open_store(url)
    assert await reopened.rollups.query(start=H0, end=H0 + 60) == [
        row(calls=4, latency={5: 4}, latency_sum=0.8)
    ]
    (window,) = await reopened.rollups.windows()
    assert (window.provider, window.end, window.reason) == ("stripe", None, "upgrade")


async def test_maintenance_windows_open_close_and_query(store: Store) -> None:
    """A window opens once per provider, closes at its end, and is found by overlap with a range."""
    rollups = store.rollups
    first = await rollups.open_window("payments", "stripe", start=H0, reason="v2 migration")
    assert (
        await rollups.open_window("payments", "stripe", start=H0 + 10) == first
    )  # draining, then open
    other = await rollups.open_window("payments", "adyen", start=H0 + 100, planned=False)
    assert other != first
    assert await rollups.close_window("payments", "stripe", end=H0 + 600) == first
    assert await rollups.close_window("payments", "stripe", end=H0 + 700) is None
    again = await rollups.open_window("payments", "stripe", start=H0 + 1000)
    assert again not in (first, other)

    windows = await rollups.windows()
    assert [(w.id, w.provider, w.start, w.end, w.planned) for w in windows] == [
        (first, "stripe", H0, H0 + 600, True),
        (other, "adyen", H0 + 100, None, False),
        (again, "stripe", H0 + 1000, None, True),
    ]
    assert windows[0].reason == "v2 migration"
    assert [w.id for w in await rollups.windows(start=H0 + 600, end=H0 + 1000)] == [other]
    assert [w.id for w in await rollups.windows(start=H0, end=H0 + 50)] == [first]
    assert [w.id for w in await rollups.windows(planned=True, provider="stripe")] == [first, again]
    assert [w.id for w in await rollups.windows(integration="email")] == []
    assert windows[0].overlap(H0 - 100, H0 + 300) == 300
    assert windows[1].overlap(H0, H0 + 1100) == 1000  # open: lasts past the range

    # A window closed before it opened (clock skew between replicas) ends where it starts.
    assert await rollups.close_window("payments", "adyen", end=H0) == other
    assert [w.end for w in await rollups.windows(provider="adyen")] == [H0 + 100]
