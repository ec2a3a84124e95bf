"""The store's one schema, as SQLAlchemy Core tables shared by SQLite and PostgreSQL.

This module is the model that Alembic compares against; the migrations under
``migrations/versions`` are frozen copies that build it step by step, and a
test checks that migrating an empty database yields exactly these tables.

Times are Unix seconds as floats (``time.time()``): they are stored across
restarts and compared between replicas, so a monotonic clock would not do.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from seawall.store._rollup_row import LATENCY_BOUNDS

__all__ = [
    "LATENCY_COLUMNS",
    "ROLLUP_COUNTS",
    "ROLLUP_VALUES",
    "VERSION_TABLE",
    "events",
    "maintenance_windows",
    "metadata",
    "outbox",
    "rollups_hour",
    "rollups_minute",
]

#: Alembic's bookkeeping table; named for seawall so that a PostgreSQL database
#: shared with an application that runs its own Alembic does not clash.
VERSION_TABLE = "seawall_alembic_version"

metadata = sa.MetaData(
    # Deterministic constraint names, so that later migrations can alter them
    # (SQLite batch mode needs a name to drop or recreate a constraint).
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

#: A JSON document: JSONB on PostgreSQL (indexable, compact), JSON text elsewhere.
JSONDocument = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

outbox = sa.Table(
    "outbox",
    metadata,
    # A UUIDv7 (RFC 9562): unique across replicas, roughly time-ordered.
    sa.Column("id", sa.String(36), primary_key=True),
    # The delivery order. PostgreSQL draws it from an identity sequence; SQLite
    # has no sequences outside the rowid, so the insert computes MAX(seq) + 1
    # while it holds the database's single write lock (see Outbox.enqueue).
    sa.Column("seq", sa.BigInteger(), sa.Identity(), nullable=False, unique=True),
    sa.Column("integration", sa.String(200), nullable=False),
    # Messages with the same (integration, order_key) are delivered one at a
    # time, in seq order; a message without a key is its own key.
    sa.Column("order_key", sa.String(500), nullable=False),
    sa.Column("method", sa.String(16), nullable=False),
    sa.Column("target", sa.Text(), nullable=False),
    # A JSON list of [name, value] pairs: order and repeated headers are kept.
    sa.Column("headers", JSONDocument, nullable=False),
    sa.Column("body", sa.LargeBinary(), nullable=False),
    sa.Column("idempotency_key", sa.String(255), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("next_attempt_at", sa.Double(), nullable=False),
    # While delivering: when the claim runs out, and the token that fences the
    # claimer's own outcome from a later claimer's.
    sa.Column("lease_until", sa.Double(), nullable=True),
    sa.Column("lease_id", sa.String(32), nullable=True),
    sa.Column("created_at", sa.Double(), nullable=False),
    sa.Column("updated_at", sa.Double(), nullable=False),
    sa.Column("delivered_at", sa.Double(), nullable=True),
    sa.Column("last_error", sa.Text(), nullable=True),
    sa.Column("provider", sa.String(200), nullable=True),
    sa.Column("response_status", sa.Integer(), nullable=True),
    sa.CheckConstraint("state IN ('pending', 'delivering', 'delivered', 'dead')", name="state"),
    # The worker's head-of-line query: for each (integration, order_key), the
    # lowest seq among pending and delivering messages. Leading with state
    # keeps delivered history (which accumulates) out of the scan.
    sa.Index(None, "state", "integration", "order_key", "seq"),
)

events = sa.Table(
    "events",
    metadata,
    sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("at", sa.Double(), nullable=False),
    sa.Column("kind", sa.String(100), nullable=False),
    sa.Column("integration", sa.String(200), nullable=True),
    sa.Column("provider", sa.String(200), nullable=True),
    sa.Column("data", JSONDocument, nullable=False),
    sa.Index(None, "at"),
    sa.Index(None, "integration", "at"),
)

#: The count columns of a rollup table, in :class:`~seawall.store.RollupRow` order.
ROLLUP_COUNTS: tuple[str, ...] = (
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
#: One count column per latency bucket: ``lat_00`` (``<= LATENCY_BOUNDS[0]``) to
#: ``lat_18`` (above the last bound).
LATENCY_COLUMNS: tuple[str, ...] = tuple(f"lat_{i:02d}" for i in range(len(LATENCY_BOUNDS) + 1))
#: Every column a rollup upsert adds into: the counts, ``latency_sum``, the buckets.
ROLLUP_VALUES: tuple[str, ...] = (*ROLLUP_COUNTS, "latency_sum", *LATENCY_COLUMNS)


def _rollup_table(name: str) -> sa.Table:
    """A rollup table: one row per (integration, provider, bucket start).

    The primary key serves ``WHERE integration = ? AND provider = ? AND start
    BETWEEN ? AND ?``; on SQLite the table is ``WITHOUT ROWID``, i.e. stored in
    primary-key order, so that range is one contiguous read with no lookups
    (https://www.sqlite.org/withoutrowid.html). The index on ``start`` serves
    whole-range scans (dashboards, downsampling, retention).
    """
    return sa.Table(
        name,
        metadata,
        sa.Column("integration", sa.String(200), primary_key=True),
        # "" for calls that never reached a provider (see Metrics.NO_PROVIDER)
        sa.Column("provider", sa.String(200), primary_key=True),
        # Unix seconds at the bucket's start, a multiple of the table's width
        sa.Column("start", sa.BigInteger(), primary_key=True, autoincrement=False),
        *(sa.Column(column, sa.BigInteger(), nullable=False) for column in ROLLUP_COUNTS),
        sa.Column("latency_sum", sa.Double(), nullable=False),
        *(sa.Column(column, sa.BigInteger(), nullable=False) for column in LATENCY_COLUMNS),
        sa.Index(None, "start"),
        sqlite_with_rowid=False,
    )


#: Per-minute rollups: the recent detail, deleted once older than the downsampling age.
rollups_minute = _rollup_table("rollups_minute")
#: Per-hour rollups: every count ever added, kept until retention removes it.
rollups_hour = _rollup_table("rollups_hour")

maintenance_windows = sa.Table(
    "maintenance_windows",
    metadata,
    sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("integration", sa.String(200), nullable=False),
    sa.Column("provider", sa.String(200), nullable=False),
    sa.Column("start", sa.Double(), nullable=False),
    # NULL while the window is open
    sa.Column("end", sa.Double(), nullable=True),
    # announced by the vendor: SLA maths excludes it from the measured time
    sa.Column("planned", sa.Boolean(), nullable=False),
    sa.Column("reason", sa.Text(), nullable=False),
    sa.Index(None, "integration", "provider", "start"),
    sa.Index(None, "start"),
)
