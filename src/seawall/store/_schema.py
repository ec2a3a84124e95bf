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
    "alert_episodes",
    "events",
    "incidents",
    "maintenance_windows",
    "metadata",
    "notifications",
    "outbox",
    "rollups_hour",
    "rollups_minute",
    "settings",
    "silences",
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


#: A row id drawn from a sequence: BIGINT on PostgreSQL, SQLite's INTEGER rowid alias.
_RowId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

alert_episodes = sa.Table(
    "alert_episodes",
    metadata,
    # One episode is one stretch of a series firing: opened when it starts
    # firing, closed (resolved_at) when it resolves.
    sa.Column("id", _RowId, primary_key=True, autoincrement=True),
    sa.Column("rule", sa.String(200), nullable=False),
    # seawall.alerts.fingerprint(labels): 16 hex digits naming the series
    sa.Column("fingerprint", sa.String(16), nullable=False),
    sa.Column("labels", JSONDocument, nullable=False),
    sa.Column("severity", sa.String(16), nullable=False),
    sa.Column("summary", sa.Text(), nullable=False),
    # when the condition first held (pending began), at or before fired_at
    sa.Column("active_since", sa.Double(), nullable=False),
    sa.Column("fired_at", sa.Double(), nullable=False),
    # NULL while the episode is firing
    sa.Column("resolved_at", sa.Double(), nullable=True),
    # what was measured when it fired; NULL for a rule that fired on no data
    sa.Column("value", sa.Double(), nullable=True),
    sa.Column("threshold", sa.Double(), nullable=True),
    # the learned band of a baseline rule (median, spread, samples, slot)
    sa.Column("baseline", JSONDocument, nullable=True),
    sa.Column("incident_id", _RowId, nullable=True),
    sa.Column("acked_at", sa.Double(), nullable=True),
    sa.Column("acked_by", sa.String(200), nullable=True),
    # "the open episode of this series": resolve, acknowledge
    sa.Index(None, "fingerprint", "resolved_at"),
    # episodes by time: reports, the dashboard
    sa.Index(None, "fired_at"),
    # the episodes of an incident
    sa.Index(None, "incident_id"),
)

silences = sa.Table(
    "silences",
    metadata,
    # a UUID, so replicas (and the admin API) can name one without a round trip
    sa.Column("id", sa.String(36), primary_key=True),
    # label matchers, as JSON; a notification whose labels all match is held back
    sa.Column("matchers", JSONDocument, nullable=False),
    sa.Column("starts_at", sa.Double(), nullable=False),
    sa.Column("ends_at", sa.Double(), nullable=False),
    sa.Column("comment", sa.Text(), nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("created_at", sa.Double(), nullable=False),
    # set when someone ended it early; NULL otherwise
    sa.Column("expired_at", sa.Double(), nullable=True),
    sa.Index(None, "expired_at", "ends_at"),
)

incidents = sa.Table(
    "incidents",
    metadata,
    sa.Column("id", _RowId, primary_key=True, autoincrement=True),
    sa.Column("title", sa.Text(), nullable=False),
    sa.Column("severity", sa.String(16), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    # JSON lists: the integration names, and the providers as "integration/provider"
    sa.Column("integrations", JSONDocument, nullable=False),
    sa.Column("providers", JSONDocument, nullable=False),
    # what opened it, in words: the alert or the breaker
    sa.Column("trigger", sa.Text(), nullable=False),
    sa.Column("opened_at", sa.Double(), nullable=False),
    # the earliest sign of harm found: at or before opened_at
    sa.Column("impact_started_at", sa.Double(), nullable=False),
    sa.Column("acknowledged_at", sa.Double(), nullable=True),
    sa.Column("acknowledged_by", sa.String(200), nullable=True),
    sa.Column("resolved_at", sa.Double(), nullable=True),
    sa.Column("resolved_by", sa.String(200), nullable=True),
    # root cause and prevention, written by people after the fact
    sa.Column("notes", sa.Text(), nullable=True),
    sa.CheckConstraint("state IN ('open', 'acknowledged', 'resolved')", name="state"),
    sa.Index(None, "state"),
    sa.Index(None, "opened_at"),
)

notifications = sa.Table(
    "notifications",
    metadata,
    sa.Column("id", _RowId, primary_key=True, autoincrement=True),
    sa.Column("at", sa.Double(), nullable=False),
    # the alert group the message was about (route + group_by label values)
    sa.Column("group_key", sa.Text(), nullable=False),
    # the channel or contact name, and which of the two it is
    sa.Column("target", sa.String(200), nullable=False),
    sa.Column("target_kind", sa.String(32), nullable=False),
    # firing, resolved, repeat, escalation ...
    sa.Column("kind", sa.String(32), nullable=False),
    # the escalation step, for escalation messages
    sa.Column("step", sa.Integer(), nullable=True),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("error", sa.Text(), nullable=True),
    # the alert series (fingerprints) the message told about
    sa.Column("fingerprints", JSONDocument, nullable=False),
    sa.Column("incident_id", _RowId, nullable=True),
    sa.Index(None, "at"),
    sa.Index(None, "incident_id"),
)

settings = sa.Table(
    "settings",
    metadata,
    # values seawall keeps for itself across restarts and replicas, e.g. the
    # key that signs acknowledge links
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("value", sa.Text(), nullable=False),
)
