"""Per-minute and per-hour rollups, and maintenance windows.

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-02

A frozen copy of the tables as first released: later changes to ``_schema.py``
arrive as new revisions, never as edits here. The 19 latency columns match the
18 bounds of ``LATENCY_BOUNDS`` plus the unbounded bucket, as they were then.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

_COUNTS = (
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
_LATENCY = tuple(f"lat_{i:02d}" for i in range(19))


def _create_rollups(name: str) -> None:
    op.create_table(
        name,
        sa.Column("integration", sa.String(200), nullable=False),
        sa.Column("provider", sa.String(200), nullable=False),
        sa.Column("start", sa.BigInteger(), nullable=False, autoincrement=False),
        *(sa.Column(column, sa.BigInteger(), nullable=False) for column in _COUNTS),
        sa.Column("latency_sum", sa.Double(), nullable=False),
        *(sa.Column(column, sa.BigInteger(), nullable=False) for column in _LATENCY),
        sa.PrimaryKeyConstraint("integration", "provider", "start", name=f"pk_{name}"),
        sqlite_with_rowid=False,
    )
    op.create_index(f"ix_{name}_start", name, ["start"])


def upgrade() -> None:
    _create_rollups("rollups_minute")
    _create_rollups("rollups_hour")
    op.create_table(
        "maintenance_windows",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
            autoincrement=True,
        ),
        sa.Column("integration", sa.String(200), nullable=False),
        sa.Column("provider", sa.String(200), nullable=False),
        sa.Column("start", sa.Double(), nullable=False),
        sa.Column("end", sa.Double(), nullable=True),
        sa.Column("planned", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_maintenance_windows"),
    )
    op.create_index(
        "ix_maintenance_windows_integration_provider_start",
        "maintenance_windows",
        ["integration", "provider", "start"],
    )
    op.create_index("ix_maintenance_windows_start", "maintenance_windows", ["start"])


def downgrade() -> None:
    op.drop_table("maintenance_windows")
    op.drop_table("rollups_hour")
    op.drop_table("rollups_minute")
