"""Rollups: call counts per (integration, provider) and minute or hour, and maintenance windows.

Two tables hold :class:`~seawall.store.RollupRow` counts:

- ``rollups_hour`` holds **every count ever added**, per hour, until retention
  (:meth:`Rollups.purge`) removes it;
- ``rollups_minute`` holds the same counts per minute, the recent detail, until
  :meth:`Rollups.downsample` removes the minutes older than the downsampling age.

:meth:`Rollups.add` adds a batch of minute rows into both tables in one
transaction: the minute rows, and the hour rows they fold into (an UPSERT that
adds, ``SET col = col + excluded.col``). Folding at write time costs one more
upsert per batch -- a batch has a few rows per provider -- and buys two things:

- **Reports read hours, not minutes.** :meth:`Rollups.totals` sums the hour
  rows of the whole hours in its range and the minute rows only at the two
  ragged edges: a month of 50 providers is ~37,000 hour rows instead of
  ~2.2 million minute rows, summed in SQL.
- **Downsampling cannot lose or double a count.** The hour rows already hold
  the minutes, so downsampling is one ``DELETE``: atomic, idempotent, and free
  of the race where two replicas fold the same minutes twice, or a late write
  to an old minute slips in between a fold and its delete.

:meth:`Rollups.sla_summary` is the SLA reports' fast path: one grouped pass
over a provider's minute rows (per hour row, so in key order and without a
sort) and a few small reads, instead of pulling its ~43,000 rows of a month
into Python.

Invariant: each hour row is at least the sum of its minute rows, equal until
an hour row is added directly (``width=3600``, e.g. an import). :meth:`query`
with ``width=None`` uses it to return the finest rows that are complete.

Bucket starts are Unix seconds (multiples of 60 or 3600); range arguments are
Unix seconds too, ``start`` inclusive and ``end`` exclusive.
"""

from __future__ import annotations

import functools
import itertools
import math
import operator
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from seawall.store._database import Database
from seawall.store._rollup_row import LATENCY_BOUNDS, RollupRow
from seawall.store._schema import (
    LATENCY_COLUMNS,
    ROLLUP_COUNTS,
    ROLLUP_VALUES,
    maintenance_windows,
    rollups_hour,
    rollups_minute,
)

__all__ = ["MaintenanceWindow", "RollupSummary", "Rollups"]

MINUTE = 60
HOUR = 3600
#: ``integration`` or ``provider`` of a :meth:`Rollups.totals` row not grouped by it
ALL = "*"
_GROUPS = ("integration", "provider")
#: PostgreSQL advisory lock serialising open_window across replicas (any constant)
_WINDOW_LOCK = 0x5EA_3A12
_BUCKETS = len(LATENCY_BOUNDS) + 1
_N_COUNTS = len(ROLLUP_COUNTS)
#: the RollupRow fields in ROLLUP_VALUES order, but for the latency tuple
_counts_of = operator.attrgetter(*ROLLUP_COUNTS)

_Key = tuple[str, str, int]
_Values = list[float]  # the ROLLUP_VALUES of one row; counts stay Python ints
#: the integer columns of a rollup row: what must match for minutes to stand for their hour
_INTEGERS = (*ROLLUP_COUNTS, *LATENCY_COLUMNS)
#: bad-minute candidates are picked in SQL at this precision (a threshold's millionths)
_MICRO = 1_000_000


@dataclass(frozen=True, slots=True, kw_only=True)
class MaintenanceWindow:
    """A time a provider was (or is) in maintenance; ``end`` is None while it lasts."""

    id: int
    integration: str
    provider: str
    start: float
    end: float | None
    planned: bool
    reason: str = ""

    def overlap(self, start: float, end: float) -> float:
        """Seconds of ``[start, end)`` inside this window (an open one lasts past ``end``)."""
        until = end if self.end is None else min(self.end, end)
        return max(0.0, until - max(self.start, start))


@dataclass(frozen=True, slots=True, kw_only=True)
class RollupSummary:
    """One provider's rollups over a range, as :meth:`Rollups.sla_summary` reads them.

    Both parts are over the rows :meth:`Rollups.query` returns for the range
    with ``width=None`` (call them *the rows*): ``stretches`` sums them, and
    ``detail`` lists the few of them that a sum cannot stand for. Together they
    measure exactly what the rows measure (see :mod:`seawall.sla`'s
    ``build_summary_report``).
    """

    integration: str
    provider: str
    start: int  #: the range, in whole seconds (rounded up), as :meth:`Rollups.totals` has it
    end: int
    #: the threshold ``detail`` was picked for: a minute at this vendor error rate is bad
    bad_minute_threshold: float
    #: the maintenance windows ``detail`` covers, in order, empty ones left out (an
    #: open window must be given with an end, e.g. now)
    maintenance: tuple[tuple[float, float], ...]
    #: the rows summed per stretch between ``start``, each split, and ``end``; a row's
    #: ``start`` and ``width`` are its stretch's, in order
    stretches: tuple[RollupRow, ...]
    #: the rows that are hour rows (``width=3600``: their minutes were downsampled, or
    #: an import added to the hour), that may be a bad minute (a superset: the SQL
    #: filter is exact to a millionth, the caller checks each exactly), or that start
    #: in a maintenance window rounded out to whole minutes; ordered by start
    detail: tuple[RollupRow, ...]


class Rollups:
    """The rollups repository; get it as ``store.rollups``.

    Rows come back ordered by ``(integration, provider, start, width)``.
    """

    MINUTE: ClassVar[int] = MINUTE
    HOUR: ClassVar[int] = HOUR
    #: what :meth:`totals` puts in a column it does not group by
    ALL: ClassVar[str] = ALL

    def __init__(self, database: Database) -> None:
        self._db = database
        dialect = database.engine.dialect
        self._upsert_minute = _Upsert(rollups_minute, dialect)
        self._upsert_hour = _Upsert(rollups_hour, dialect)

    # -- counts ------------------------------------------------------------------

    async def add(self, rows: Sequence[RollupRow]) -> None:
        """Add ``rows`` into the stored counts, in one transaction.

        A minute row (``width=60``) is added to its minute and to its hour; an
        hour row (``width=3600``) to its hour only. Rows with the same key are
        merged first. Raises ValueError for a width other than 60 or 3600, a
        start that is not a multiple of it, or a latency tuple of the wrong size.
        """
        minutes: dict[_Key, _Values] = {}
        hours: dict[_Key, _Values] = {}
        for row in rows:
            _check(row)
            values: _Values = [*_counts_of(row), row.latency_sum, *row.latency]
            if row.width == MINUTE:
                _merge(minutes, (row.integration, row.provider, row.start), values)
                _merge(hours, (row.integration, row.provider, row.start - row.start % HOUR), values)
            else:
                _merge(hours, (row.integration, row.provider, row.start), values)
        if not hours:
            return

        def write(conn: Connection) -> None:
            if minutes:
                self._upsert_minute.run(conn, minutes)
            self._upsert_hour.run(conn, hours)

        await self._db.write(f"add {len(rows)} rollup rows", write)

    async def query(
        self,
        *,
        start: float,
        end: float,
        integration: str | None = None,
        provider: str | None = None,
        width: int | None = None,
    ) -> list[RollupRow]:
        """Rows with a bucket start in ``[start, end)``.

        ``width=60``: the minute rows still kept; ``width=3600``: the hour rows.
        ``width=None``: the finest complete rows -- an hour wholly inside the
        range comes as its minute rows while all of them are kept, else as its
        hour row; the minutes of a partial hour at either edge come as minute
        rows (none once downsampled). Summing these rows gives :meth:`totals`.
        """
        if width not in (None, MINUTE, HOUR):
            msg = f"width must be 60, 3600 or None, not {width!r}"
            raise ValueError(msg)
        low, high = math.ceil(start), math.ceil(end)
        first, last = _whole_hours(low, high)

        def fetch(conn: Connection) -> list[RollupRow]:
            if width == MINUTE:
                return _fetch(
                    conn,
                    rollups_minute,
                    MINUTE,
                    low,
                    high,
                    integration=integration,
                    provider=provider,
                )
            if width == HOUR:
                return _fetch(
                    conn, rollups_hour, HOUR, low, high, integration=integration, provider=provider
                )
            minutes = _fetch(
                conn, rollups_minute, MINUTE, low, high, integration=integration, provider=provider
            )
            if first >= last:
                return minutes
            hours = _fetch(
                conn, rollups_hour, HOUR, first, last, integration=integration, provider=provider
            )
            return _finest(hours, minutes)

        return await self._db.read("query rollups", fetch)

    async def totals(
        self,
        *,
        start: float,
        end: float,
        group_by: Iterable[str] = _GROUPS,
        integration: str | None = None,
        provider: str | None = None,
    ) -> list[RollupRow]:
        """Sums over ``[start, end)`` per group, computed in SQL: the reporting fast path.

        ``group_by`` is a subset of ``("integration", "provider")``; a column
        not grouped by reads ``"*"`` (:attr:`ALL`). Each row has ``start`` at
        the range's start and ``width`` its length, in whole seconds (rounded up). Equal to summing
        :meth:`query` with ``width=None`` (``latency_sum`` up to float rounding):
        whole hours are read from the hour rows, one index range per provider,
        and only the partial hours at the edges from the minute rows.
        """
        groups = tuple(group_by)
        unknown = set(groups) - set(_GROUPS)
        if unknown:
            msg = f"totals can group by integration and provider, not {sorted(unknown)}"
            raise ValueError(msg)
        low, high = math.ceil(start), math.ceil(end)
        first, last = _whole_hours(low, high)
        if first < last:
            parts = [(rollups_hour, first, last), (rollups_minute, low, first)]
            parts.append((rollups_minute, last, high))
        else:
            parts = [(rollups_minute, low, high)]

        def total(conn: Connection) -> dict[tuple[str, str], _Values]:
            sums: dict[tuple[str, str], _Values] = {}
            for table, since, until in parts:
                if since >= until:
                    continue
                statement = _sum_statement(table, since, until)
                for pair in _pairs(conn, table, integration, provider):
                    row = conn.execute(statement, {"i": pair[0], "p": pair[1]}).one()
                    if row[0] is None:  # no rows of this provider in the range
                        continue
                    values: _Values = [int(v) for v in row[:_N_COUNTS]]
                    values.append(float(row[_N_COUNTS]))
                    values.extend(int(v) for v in row[_N_COUNTS + 1 :])
                    _merge(sums, pair, values)
            return sums

        sums = await self._db.read("total rollups", total)
        grouped: dict[tuple[str, str], _Values] = {}
        for (name, vendor), values in sums.items():
            key = (
                name if "integration" in groups else ALL,
                vendor if "provider" in groups else ALL,
            )
            _merge(grouped, key, values)
        return [
            _row(name, vendor, low, high - low, values)
            for (name, vendor), values in sorted(grouped.items())
        ]

    async def sla_summary(
        self,
        *,
        start: float,
        end: float,
        integration: str,
        provider: str,
        bad_minute_threshold: float,
        maintenance: Iterable[tuple[float, float]] = (),
        splits: Iterable[float] = (),
    ) -> RollupSummary:
        """What an SLA report of one provider over ``[start, end)`` needs, in one pass.

        Instead of the ~43,000 minute rows a month of one provider holds, a
        :class:`RollupSummary`: the rows summed per stretch between the
        ``splits`` (e.g. UTC midnights, burn-rate windows' starts), and the few
        rows sums cannot stand for -- hours whose minutes were downsampled (or
        that an import added to), minutes that may be outages, and minutes in
        ``maintenance``. One SQL pass over the minute rows (grouped by their
        hour row, so it is one index range per provider) finds the hours whose
        minute rows no longer add up to the hour and counts each hour's possibly
        bad minutes; only those hours are then read minute by minute.

        A minute is possibly bad when it had vendor traffic and ``bad * 10**6
        >= floor(bad_minute_threshold * 10**6) * (good + bad)``, in integers:
        never a float edge, and a superset of the exact rule (equal to it for a
        threshold with at most six decimals). Relies on the invariant in the
        module docstring: an hour row is at least the sum of its minute rows.
        """
        if not (math.isfinite(bad_minute_threshold) and bad_minute_threshold >= 0):
            msg = f"a bad-minute threshold is a fraction >= 0, not {bad_minute_threshold!r}"
            raise ValueError(msg)
        low, high = math.ceil(start), max(math.ceil(start), math.ceil(end))
        first, last = _whole_hours(low, high)
        windows = tuple(sorted((float(s), float(e)) for s, e in maintenance if e > s))
        cuts = sorted({math.ceil(split) for split in splits if low < math.ceil(split) < high})
        bounds = [low, *cuts, high]
        micro = math.floor(Fraction(bad_minute_threshold) * _MICRO)
        key: dict[str, Any] = {"i": integration, "p": provider, "micro": micro}

        def read(conn: Connection) -> RollupSummary:
            hour_rows: dict[int, RollupRow] = {}  # the rows' downsampled or imported hours
            suspect_hours: list[int] = []  # complete hours with a possibly bad minute
            if first < last:
                statement = _hours_statement(micro > 0)
                for found in conn.execute(statement, {**key, "first": first, "last": last}):
                    hour, minutes, suspects, minute_total = (int(v or 0) for v in found[:4])
                    values = list(found[4:])
                    complete = minutes > 0 and minute_total == sum(
                        int(values[ROLLUP_VALUES.index(name)]) for name in _INTEGERS
                    )
                    if not complete:
                        hour_rows[hour] = _row(integration, provider, hour, HOUR, values)
                    elif suspects:
                        suspect_hours.append(hour)
            edges = [(low, high)] if first >= last else [(low, first), (last, high)]
            minute_rows: dict[int, RollupRow] = {}
            for since, until in [*_runs(suspect_hours), *edges]:
                if since < until:
                    for minute in _minutes(conn, since, until, key, suspects=True):
                        minute_rows[minute.start] = minute
            for since, until in _minute_spans(windows, low, high):
                for minute in _minutes(conn, since, until, key, suspects=False):
                    if minute.start - minute.start % HOUR not in hour_rows:  # not one of the rows
                        minute_rows[minute.start] = minute
            detail = sorted([*hour_rows.values(), *minute_rows.values()], key=lambda r: r.start)
            stretches = _stretch_sums(conn, bounds, (first, last), hour_rows, key)
            return RollupSummary(
                integration=integration,
                provider=provider,
                start=low,
                end=high,
                bad_minute_threshold=bad_minute_threshold,
                maintenance=windows,
                stretches=tuple(
                    _row(integration, provider, since, until - since, values)
                    for (since, until), values in zip(
                        itertools.pairwise(bounds), stretches, strict=True
                    )
                ),
                detail=tuple(detail),
            )

        return await self._db.read("summarise rollups", read)

    async def downsample(self, *, older_than: float) -> int:
        """Remove the minute rows of the hours that ended by ``older_than``; returns how many.

        Their counts stay in the hour rows, which :meth:`add` kept up to date
        in the same transactions, so totals before and after are equal.
        Idempotent; safe from several replicas at once.
        """
        cutoff = _hour_floor(older_than)

        def delete(conn: Connection) -> int:
            statement = sa.delete(rollups_minute).where(rollups_minute.c.start < cutoff)
            return int(conn.execute(statement).rowcount)

        return await self._db.write("downsample rollups", delete)

    async def purge(self, *, older_than: float) -> int:
        """Retention: remove the rows (hour and minute) of hours that ended by ``older_than``.

        Returns the number of rows removed.
        """
        cutoff = _hour_floor(older_than)

        def delete(conn: Connection) -> int:
            removed = 0
            for table in (rollups_hour, rollups_minute):
                statement = sa.delete(table).where(table.c.start < cutoff)
                removed += int(conn.execute(statement).rowcount)
            return removed

        return await self._db.write("purge rollups", delete)

    # -- maintenance windows -------------------------------------------------------

    async def open_window(
        self,
        integration: str,
        provider: str,
        *,
        start: float,
        planned: bool = True,
        reason: str = "",
    ) -> int:
        """Record that a provider entered maintenance at ``start``; returns the window's id.

        Idempotent: while a window of the provider is open, its id is returned
        and nothing changes (``draining`` then ``open`` is one window).
        """
        table = maintenance_windows
        postgres = self._db.backend == "postgresql"

        def open_(conn: Connection) -> int:
            if postgres:  # two replicas seeing the same change must not open two windows
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_WINDOW_LOCK)))
            existing = conn.execute(
                sa.select(table.c.id)
                .where(
                    table.c.integration == integration,
                    table.c.provider == provider,
                    table.c.end.is_(None),
                )
                .order_by(table.c.id)
                .limit(1)
            ).scalar()
            if existing is not None:
                return int(existing)
            inserted = conn.execute(
                sa.insert(table)
                .values(
                    integration=integration,
                    provider=provider,
                    start=start,
                    end=None,
                    planned=planned,
                    reason=reason,
                )
                .returning(table.c.id)
            )
            return int(inserted.scalar_one())

        return await self._db.write("open a maintenance window", open_)

    async def close_window(self, integration: str, provider: str, *, end: float) -> int | None:
        """Close the provider's open window at ``end``; returns its id, None if none was open."""
        table = maintenance_windows

        def close(conn: Connection) -> int | None:
            ids = [
                int(i)
                for i in conn.execute(
                    sa.select(table.c.id).where(
                        table.c.integration == integration,
                        table.c.provider == provider,
                        table.c.end.is_(None),
                    )
                ).scalars()
            ]
            if not ids:
                return None
            conn.execute(
                sa.update(table)
                .where(table.c.id.in_(ids))
                .values(end=sa.case((table.c.start > end, table.c.start), else_=end))
            )
            return min(ids)

        return await self._db.write("close a maintenance window", close)

    async def windows(
        self,
        *,
        start: float | None = None,
        end: float | None = None,
        integration: str | None = None,
        provider: str | None = None,
        planned: bool | None = None,
    ) -> list[MaintenanceWindow]:
        """Windows that overlap ``[start, end)`` (open ones included), oldest first."""
        table = maintenance_windows
        statement = sa.select(table).order_by(table.c.start, table.c.id)
        if end is not None:
            statement = statement.where(table.c.start < end)
        if start is not None:
            statement = statement.where(sa.or_(table.c.end.is_(None), table.c.end > start))
        if integration is not None:
            statement = statement.where(table.c.integration == integration)
        if provider is not None:
            statement = statement.where(table.c.provider == provider)
        if planned is not None:
            statement = statement.where(table.c.planned == planned)

        def fetch(conn: Connection) -> list[MaintenanceWindow]:
            return [
                MaintenanceWindow(
                    id=int(row["id"]),
                    integration=row["integration"],
                    provider=row["provider"],
                    start=float(row["start"]),
                    end=None if row["end"] is None else float(row["end"]),
                    planned=bool(row["planned"]),
                    reason=row["reason"],
                )
                for row in conn.execute(statement).mappings()
            ]

        return await self._db.read("query maintenance windows", fetch)


# -- helpers -------------------------------------------------------------------------


def _check(row: RollupRow) -> None:
    if row.width not in (MINUTE, HOUR):
        msg = f"a rollup row is 60 or 3600 seconds wide, not {row.width}"
        raise ValueError(msg)
    if row.start % row.width:
        msg = f"a {row.width} s rollup row must start at a multiple of {row.width}, not {row.start}"
        raise ValueError(msg)
    if len(row.latency) != _BUCKETS:
        msg = f"a rollup row has {_BUCKETS} latency buckets, not {len(row.latency)}"
        raise ValueError(msg)


def _merge(into: dict[Any, _Values], key: Any, values: _Values) -> None:
    existing = into.get(key)
    if existing is None:
        into[key] = list(values)
    else:
        existing[:] = map(operator.add, existing, values)


_PARAMS = ("integration", "provider", "start", *ROLLUP_VALUES)


class _Upsert:
    """``INSERT ... ON CONFLICT (key) DO UPDATE SET col = col + excluded.col``, many rows.

    Built with SQLAlchemy Core (``sqlite.insert`` or ``postgresql.insert``) and
    compiled once: SQLAlchemy's per-row parameter processing cost more than
    SQLite's own work on a large batch (about 18 us against 5 us a row), so the
    rows go to the driver's ``executemany`` as plain tuples (or dicts, for a
    driver with named parameters).
    """

    __slots__ = ("_order", "_sql")

    def __init__(self, table: sa.Table, dialect: sa.Dialect) -> None:
        insert = postgresql.insert if dialect.name == "postgresql" else sqlite.insert
        statement = insert(table)
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.integration, table.c.provider, table.c.start],
            set_={name: table.c[name] + statement.excluded[name] for name in ROLLUP_VALUES},
        )
        compiled = statement.compile(dialect=dialect, column_keys=list(_PARAMS))
        self._sql = str(compiled)
        positions = compiled.positiontup
        self._order: tuple[int, ...] | None = (
            None if positions is None else tuple(_PARAMS.index(name) for name in positions)
        )

    def run(self, conn: Connection, rows: dict[_Key, _Values]) -> None:
        """Upsert ``rows``, sorted so concurrent PostgreSQL writers lock rows in one order."""
        ordered = [(*key, *rows[key]) for key in sorted(rows)]
        order = self._order
        params: list[Any]
        if order is None:
            params = [dict(zip(_PARAMS, values, strict=True)) for values in ordered]
        elif order == tuple(range(len(_PARAMS))):
            params = ordered
        else:
            params = [tuple(values[i] for i in order) for values in ordered]
        conn.exec_driver_sql(self._sql, params)


def _hour_floor(at: float) -> int:
    return math.floor(at / HOUR) * HOUR


def _whole_hours(low: int, high: int) -> tuple[int, int]:
    """``[first, last)``: the starts of the hours lying wholly inside ``[low, high)``."""
    return -(-low // HOUR) * HOUR, high // HOUR * HOUR


def _fetch(
    conn: Connection,
    table: sa.Table,
    width: int,
    low: int,
    high: int,
    *,
    integration: str | None,
    provider: str | None,
) -> list[RollupRow]:
    statement = (
        sa.select(table.c.integration, table.c.provider, table.c.start)
        .add_columns(*(table.c[name] for name in ROLLUP_VALUES))
        .where(table.c.start >= low, table.c.start < high)
        .order_by(table.c.integration, table.c.provider, table.c.start)
    )
    if integration is not None:
        statement = statement.where(table.c.integration == integration)
    if provider is not None:
        statement = statement.where(table.c.provider == provider)
    return [
        _row(row[0], row[1], int(row[2]), width, list(row[3:])) for row in conn.execute(statement)
    ]


def _row(integration: str, provider: str, start: int, width: int, values: _Values) -> RollupRow:
    counts = [int(v) for v in values[:_N_COUNTS]]
    return RollupRow(
        integration=integration,
        provider=provider,
        start=start,
        width=width,
        attempts=counts[0],
        success=counts[1],
        final=counts[2],
        throttled=counts[3],
        failure=counts[4],
        timeout=counts[5],
        connect_error=counts[6],
        rejected=counts[7],
        calls=counts[8],
        retries=counts[9],
        failovers=counts[10],
        latency_sum=float(values[_N_COUNTS]),
        latency=tuple(int(v) for v in values[_N_COUNTS + 1 :]),
    )


def _exact(row: RollupRow) -> tuple[int, ...]:
    """The integer counts of a row: what must match for minutes to stand for their hour."""
    return (*_counts_of(row), *row.latency)


def _finest(hours: list[RollupRow], minutes: list[RollupRow]) -> list[RollupRow]:
    by_hour: dict[_Key, list[RollupRow]] = {}
    for row in minutes:
        key = (row.integration, row.provider, row.start - row.start % HOUR)
        by_hour.setdefault(key, []).append(row)
    result: list[RollupRow] = []
    for hour in hours:
        detail = by_hour.pop((hour.integration, hour.provider, hour.start), None)
        complete = detail is not None and _exact(hour) == tuple(
            map(sum, zip(*map(_exact, detail), strict=True))
        )
        if detail is not None and complete:
            result.extend(detail)
        else:
            result.append(hour)
    for detail in by_hour.values():
        result.extend(detail)
    result.sort(key=lambda r: (r.integration, r.provider, r.start, r.width))
    return result


def _sum_statement(table: sa.Table, since: int, until: int) -> sa.Select[Any]:
    """Every value column summed for one provider over a start range: one index range."""
    return sa.select(*(sa.func.sum(table.c[name]) for name in ROLLUP_VALUES)).where(
        table.c.integration == sa.bindparam("i"),
        table.c.provider == sa.bindparam("p"),
        table.c.start >= since,
        table.c.start < until,
    )


def _pairs(
    conn: Connection, table: sa.Table, integration: str | None, provider: str | None
) -> Iterator[tuple[str, str]]:
    """The (integration, provider) pairs in ``table``, by a loose index scan.

    Two primary-key seeks per pair -- the next provider of this integration,
    else the first of the next integration -- instead of a ``DISTINCT`` that
    reads every row. (SQLite answers a row-value ``(integration, provider) >
    (?, ?)`` by seeking on ``integration`` alone and then stepping over every
    row of the current pair, which costs as much as the ``DISTINCT``.)
    """
    if integration is not None and provider is not None:
        yield integration, provider
        return
    name_col, vendor_col = table.c.integration, table.c.provider
    first = sa.select(name_col, vendor_col).order_by(name_col, vendor_col).limit(1)
    if integration is not None:
        first = first.where(name_col == integration)
    next_vendor = (
        sa.select(name_col, vendor_col)
        .where(name_col == sa.bindparam("i"), vendor_col > sa.bindparam("p"))
        .order_by(vendor_col)
        .limit(1)
    )
    next_name = (
        sa.select(name_col, vendor_col)
        .where(name_col > sa.bindparam("i"))
        .order_by(name_col, vendor_col)
        .limit(1)
    )
    found = conn.execute(first).first()
    while found is not None:
        name, vendor = str(found[0]), str(found[1])
        if provider is None or vendor == provider:
            yield name, vendor
        found = conn.execute(next_vendor, {"i": name, "p": vendor}).first()
        if found is None and integration is None:
            found = conn.execute(next_name, {"i": name}).first()


# -- the SLA summary -------------------------------------------------------------------
#
# The statements are built once, with bind parameters: building and hashing a
# statement of this size costs SQLAlchemy about a millisecond, which a report
# of 50 SLAs would otherwise pay some thousand times.


def _bind(name: str) -> sa.BindParameter[int]:
    return sa.bindparam(name, type_=sa.BigInteger())


def _candidate(table: Any, positive: bool) -> sa.ColumnElement[bool]:
    """A row that may be a bad minute: vendor traffic and ``bad / total >= micro / 10**6``.

    With a positive threshold a bad minute has a vendor fault, and most minutes
    have none: testing ``bad > 0`` first spares them the multiplications.
    """
    bad = table.c.failure + table.c.timeout + table.c.connect_error
    total = table.c.success + table.c.final + bad
    if not positive:
        traffic: sa.ColumnElement[bool] = total > 0
        return traffic
    return sa.and_(bad > 0, bad * sa.literal(_MICRO, sa.BigInteger()) >= _bind("micro") * total)


def _all_counts(table: Any) -> sa.ColumnElement[Any]:
    """Every integer column of a row added up (one number to compare an hour by)."""
    return functools.reduce(operator.add, (table.c[name] for name in _INTEGERS))


def _provider_range(table: Any, since: str, until: str) -> tuple[sa.ColumnElement[bool], ...]:
    return (
        table.c.integration == sa.bindparam("i"),
        table.c.provider == sa.bindparam("p"),
        table.c.start >= _bind(since),
        table.c.start < _bind(until),
    )


@functools.cache
def _hours_statement(positive: bool) -> sa.Select[Any]:
    """Per hour row of one provider in ``[first, last)``: its minutes' count, suspects, total.

    Only the hours that matter come back: those whose minute rows are gone or
    do not add up to the hour row (then the hour row stands for them), and
    those with a possibly bad minute. Driven by the hour rows, each joined to
    its minutes by a primary-key range, so the database reads one index range
    per provider and groups in key order, with no sort.
    """
    hour = rollups_hour.alias("h")
    minute = rollups_minute.alias("m")
    count = sa.func.count(minute.c.start)
    suspects = sa.func.sum(sa.case((_candidate(minute, positive), 1), else_=0))
    minute_total = sa.func.sum(_all_counts(minute))
    joined = hour.outerjoin(
        minute,
        sa.and_(
            minute.c.integration == hour.c.integration,
            minute.c.provider == hour.c.provider,
            minute.c.start >= hour.c.start,
            minute.c.start < hour.c.start + HOUR,
        ),
    )
    return (
        sa.select(hour.c.start, count, suspects, minute_total)
        .add_columns(*(hour.c[name] for name in ROLLUP_VALUES))
        .select_from(joined)
        .where(*_provider_range(hour, "first", "last"))
        .group_by(hour.c.integration, hour.c.provider, hour.c.start)
        .having(sa.or_(count == 0, minute_total != _all_counts(hour), suspects > 0))
    )


@functools.cache
def _minutes_statement(suspects: bool, positive: bool) -> sa.Select[Any]:
    """One provider's minute rows in ``[since, until)``; with ``suspects``, possible bad ones."""
    table = rollups_minute
    statement = (
        sa.select(table.c.start)
        .add_columns(*(table.c[name] for name in ROLLUP_VALUES))
        .where(*_provider_range(table, "since", "until"))
    )
    return statement.where(_candidate(table, positive)) if suspects else statement


@functools.cache
def _range_sum_statement() -> sa.Select[Any]:
    """One provider's minute rows in ``[since, until)`` summed, every value column."""
    table = rollups_minute
    return sa.select(*(sa.func.sum(table.c[name]) for name in ROLLUP_VALUES)).where(
        *_provider_range(table, "since", "until")
    )


@functools.lru_cache(maxsize=32)
def _stretch_statement(hours: tuple[tuple[int, int], ...]) -> sa.Select[Any]:
    """One provider's hour rows in ``[first, last)`` summed per stretch of whole hours.

    ``hours`` are the stretches' ``[since, until)`` of whole hours; the k-th is
    bound as ``s<k>``/``u<k>``. A report of many SLAs over one month asks with
    the same ones for each, so this is built once.
    """
    table = rollups_hour
    stretch = sa.case(
        *(
            (sa.and_(table.c.start >= _bind(f"s{k}"), table.c.start < _bind(f"u{k}")), k)
            for k in range(len(hours))
        ),
        else_=-1,
    ).label("stretch")
    inner = (
        sa.select(stretch, *(table.c[name] for name in ROLLUP_VALUES))
        .where(*_provider_range(table, "first", "last"))
        .subquery()
    )
    return (
        sa.select(inner.c.stretch)
        .add_columns(*(sa.func.sum(inner.c[name]) for name in ROLLUP_VALUES))
        .group_by(inner.c.stretch)
    )


def _minutes(
    conn: Connection,
    since: int,
    until: int,
    key: dict[str, Any],
    *,
    suspects: bool,
) -> list[RollupRow]:
    """One provider's minute rows in ``[since, until)``; with ``suspects``, possible bad ones."""
    statement = _minutes_statement(suspects, key["micro"] > 0)
    return [
        _row(key["i"], key["p"], int(row[0]), MINUTE, list(row[1:]))
        for row in conn.execute(statement, {**key, "since": since, "until": until})
    ]


def _runs(hours: Iterable[int]) -> list[tuple[int, int]]:
    """Consecutive hour starts merged into ``[since, until)`` ranges."""
    runs: list[list[int]] = []
    for hour in sorted(hours):
        if runs and runs[-1][1] == hour:
            runs[-1][1] = hour + HOUR
        else:
            runs.append([hour, hour + HOUR])
    return [(since, until) for since, until in runs]


def _minute_spans(
    windows: Iterable[tuple[float, float]], low: int, high: int
) -> list[tuple[int, int]]:
    """The windows rounded out to whole minutes, merged and clipped to ``[low, high)``."""
    spans: list[list[int]] = []
    for start, end in sorted(windows):
        since = max(low, math.floor(start / MINUTE) * MINUTE)
        until = min(high, math.ceil(end / MINUTE) * MINUTE)
        if since >= until:
            continue
        if spans and since <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], until)
        else:
            spans.append([since, until])
    return [(since, until) for since, until in spans]


def _stretch_sums(
    conn: Connection,
    bounds: Sequence[int],
    whole: tuple[int, int],
    hour_rows: dict[int, RollupRow],
    key: dict[str, Any],
) -> list[_Values]:
    """The rows summed per stretch ``[bounds[k], bounds[k + 1])``.

    The whole hours of a stretch are read from the hour rows (an hour row is
    its minutes' sum, or the row that stands for them); the ragged ends from
    the minute rows -- unless their hour is one the hour row stands for,
    which then counts, whole, in the stretch its start falls in. ``whole``
    is ``[first, last)``, the hours wholly inside the range.
    """
    first, last = whole
    sums: list[_Values] = [[0] * _N_COUNTS + [0.0] + [0] * _BUCKETS for _ in bounds[1:]]
    hours: list[tuple[int, int, int]] = []  # (stretch, since, until) of whole hours
    pieces: list[tuple[int, int, int]] = []  # (stretch, since, until) within one hour
    for k, (since, until) in enumerate(itertools.pairwise(bounds)):
        top, bottom = -(-since // HOUR) * HOUR, until // HOUR * HOUR
        if top < bottom:
            hours.append((k, top, bottom))
            pieces += [(k, since, top), (k, bottom, until)]
        else:
            pieces.append((k, since, until))
    if hours:
        params = {**key, "first": first, "last": last}
        for index, (_, since, until) in enumerate(hours):
            params[f"s{index}"], params[f"u{index}"] = since, until
        statement = _stretch_statement(tuple((since, until) for _, since, until in hours))
        for row in conn.execute(statement, params):
            if int(row[0]) >= 0:
                _add_into(sums[hours[int(row[0])][0]], list(row[1:]))
    for k, since, until in pieces:
        if since >= until:
            continue
        hour = since - since % HOUR
        if first <= hour < last and hour in hour_rows:  # the hour row stands for these minutes
            if since == hour:
                standing = hour_rows[hour]
                _add_into(sums[k], [*_counts_of(standing), standing.latency_sum, *standing.latency])
            continue
        row = conn.execute(_range_sum_statement(), {**key, "since": since, "until": until}).one()
        if row[0] is not None:
            _add_into(sums[k], list(row))
    return sums


def _add_into(into: _Values, values: Sequence[Any]) -> None:
    """Add one row of ROLLUP_VALUES (as the driver returns them) into ``into``."""
    for index, value in enumerate(values):
        if index == _N_COUNTS:
            into[index] += float(value)
        else:
            into[index] += int(value)
