"""Alert episodes, silences, incidents, notifications and settings.

Revision ID: 0003
Revises: 0002
Create Date: 2025-01-03

A frozen copy of the tables as first released: later changes to ``_schema.py``
arrive as new revisions, never as edits here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _row_id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "alert_episodes",
        sa.Column("id", _row_id(), nullable=False, autoincrement=True),
        sa.Column("rule", sa.String(200), nullable=False),
        sa.Column("fingerprint", sa.String(16), nullable=False),
        sa.Column("labels", _JSON, nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("active_since", sa.Double(), nullable=False),
        sa.Column("fired_at", sa.Double(), nullable=False),
        sa.Column("resolved_at", sa.Double(), nullable=True),
        sa.Column("value", sa.Double(), nullable=True),
        sa.Column("threshold", sa.Double(), nullable=True),
        sa.Column("baseline", _JSON, nullable=True),
        sa.Column("incident_id", _row_id(), nullable=True),
        sa.Column("acked_at", sa.Double(), nullable=True),
        sa.Column("acked_by", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_alert_episodes"),
    )
    op.create_index(
        "ix_alert_episodes_fingerprint_resolved_at",
        "alert_episodes",
        ["fingerprint", "resolved_at"],
    )
    op.create_index("ix_alert_episodes_fired_at", "alert_episodes", ["fired_at"])
    op.create_index("ix_alert_episodes_incident_id", "alert_episodes", ["incident_id"])

    op.create_table(
        "silences",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("matchers", _JSON, nullable=False),
        sa.Column("starts_at", sa.Double(), nullable=False),
        sa.Column("ends_at", sa.Double(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("expired_at", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_silences"),
    )
    op.create_index("ix_silences_expired_at_ends_at", "silences", ["expired_at", "ends_at"])

    op.create_table(
        "incidents",
        sa.Column("id", _row_id(), nullable=False, autoincrement=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("integrations", _JSON, nullable=False),
        sa.Column("providers", _JSON, nullable=False),
        sa.Column("trigger", sa.Text(), nullable=False),
        sa.Column("opened_at", sa.Double(), nullable=False),
        sa.Column("impact_started_at", sa.Double(), nullable=False),
        sa.Column("acknowledged_at", sa.Double(), nullable=True),
        sa.Column("acknowledged_by", sa.String(200), nullable=True),
        sa.Column("resolved_at", sa.Double(), nullable=True),
        sa.Column("resolved_by", sa.String(200), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_incidents"),
        sa.CheckConstraint(
            "state IN ('open', 'acknowledged', 'resolved')", name="ck_incidents_state"
        ),
    )
    op.create_index("ix_incidents_state", "incidents", ["state"])
    op.create_index("ix_incidents_opened_at", "incidents", ["opened_at"])

    op.create_table(
        "notifications",
        sa.Column("id", _row_id(), nullable=False, autoincrement=True),
        sa.Column("at", sa.Double(), nullable=False),
        sa.Column("group_key", sa.Text(), nullable=False),
        sa.Column("target", sa.String(200), nullable=False),
        sa.Column("target_kind", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("step", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("fingerprints", _JSON, nullable=False),
        sa.Column("incident_id", _row_id(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_notifications"),
    )
    op.create_index("ix_notifications_at", "notifications", ["at"])
    op.create_index("ix_notifications_incident_id", "notifications", ["incident_id"])

    op.create_table(
        "settings",
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_settings"),
    )


def downgrade() -> None:
    op.drop_table("settings")
    op.drop_table("notifications")
    op.drop_table("incidents")
    op.drop_table("silences")
    op.drop_table("alert_episodes")
