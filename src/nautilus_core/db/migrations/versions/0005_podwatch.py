"""Pod triage schema for the collector and dashboard: pods keyed by the inventory's cluster row,
with their health bucket, top issue and log counts; containers with their log counts and read
errors; deduplicated log entries; and a pod's Kubernetes Events.

The pod watch tables of 0001 were never written by any release (no collector existed), so they are
replaced rather than altered; the downgrade restores their 0001 shape, empty.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id(name: str = "id") -> sa.Column:
    return sa.Column(name, sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False)


def _json(name: str) -> sa.Column:
    return sa.Column(
        name, sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True
    )


def _ts(name: str, *, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _str(name: str, *, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.String(), nullable=nullable)


def _int(name: str, *, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.Integer(), nullable=nullable)


def _fk(column: str, table: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete="CASCADE"
    )


def _counts() -> list[sa.Column]:
    return [_int("error_count", nullable=False), _int("warning_count", nullable=False),
            _int("exception_count", nullable=False)]


def upgrade() -> None:
    for table in ("log_line", "container", "pod"):
        op.drop_table(table)
    op.create_table(
        "pod",
        _id(),
        _id("cluster_id"),
        _str("namespace", nullable=False),
        _str("name", nullable=False),
        _str("uid"),
        _str("phase"),
        _str("status"),
        _str("ready"),
        _int("ready_count"),
        _int("container_count"),
        _int("restarts"),
        _str("restarts_text"),
        _ts("last_restart_at"),
        _str("node"),
        _str("owner_kind"),
        _str("owner_name"),
        _ts("created_at"),
        _ts("deletion_requested_at"),
        _str("health", nullable=False),
        _int("attention", nullable=False),
        _str("top_container"),
        _str("top_reason"),
        _str("top_message"),
        _str("top_hint"),
        *_counts(),
        _json("problems"),
        _json("labels"),
        _ts("first_seen_at", nullable=False),
        _ts("last_seen_at", nullable=False),
        _ts("deleted_at"),
        _str("data_hash", nullable=False),
        _fk("cluster_id", "pod", "cluster"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pod")),
        sa.UniqueConstraint("cluster_id", "namespace", "name", name=op.f("uq_pod_cluster_id_namespace_name")),
    )
    op.create_index(op.f("ix_pod_attention"), "pod", ["attention"], unique=False)
    op.create_index(op.f("ix_pod_cluster_id_namespace"), "pod", ["cluster_id", "namespace"], unique=False)
    op.create_table(
        "container",
        _id(),
        _id("pod_id"),
        _str("name", nullable=False),
        sa.Column("init", sa.Boolean(), nullable=False),
        _str("image"),
        sa.Column("ready", sa.Boolean(), nullable=True),
        _str("state"),
        _str("reason"),
        _str("message"),
        _int("exit_code"),
        _ts("started_at"),
        _int("restart_count", nullable=False),
        _str("last_reason"),
        _str("last_message"),
        _int("last_exit_code"),
        _ts("last_finished_at"),
        *_counts(),
        _str("log_error"),
        _fk("pod_id", "container", "pod"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_container")),
        sa.UniqueConstraint("pod_id", "name", "init", name=op.f("uq_container_pod_id_name_init")),
    )
    op.create_table(
        "log_line",
        _id(),
        _id("pod_id"),
        _str("container", nullable=False),
        sa.Column("previous", sa.Boolean(), nullable=False),
        _ts("ts"),
        _int("seq", nullable=False),
        _str("level", nullable=False),
        _str("text", nullable=False),
        _str("fingerprint", nullable=False),
        _fk("pod_id", "log_line", "pod"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_log_line")),
        sa.UniqueConstraint("pod_id", "container", "fingerprint",
                            name=op.f("uq_log_line_pod_id_container_fingerprint")),
    )
    op.create_index(op.f("ix_log_line_pod_id_level"), "log_line", ["pod_id", "level"], unique=False)
    op.create_index(op.f("ix_log_line_pod_id_seq"), "log_line", ["pod_id", "seq"], unique=False)
    op.create_table(
        "pod_event",
        _id(),
        _id("pod_id"),
        _str("uid", nullable=False),
        _str("type"),
        _str("reason"),
        _str("message"),
        _int("count", nullable=False),
        _ts("first_at"),
        _ts("last_at"),
        _str("source"),
        _fk("pod_id", "pod_event", "pod"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pod_event")),
        sa.UniqueConstraint("pod_id", "uid", name=op.f("uq_pod_event_pod_id_uid")),
    )


def downgrade() -> None:
    for table in ("pod_event", "log_line", "container", "pod"):
        op.drop_table(table)
    seen = [_ts("first_seen_at", nullable=False), _ts("last_seen_at", nullable=False), _ts("deleted_at"),
            _str("data_hash", nullable=False)]
    op.create_table(
        "pod", _id(), _str("cluster", nullable=False), _str("namespace", nullable=False),
        _str("name", nullable=False), _str("uid"), _str("phase"), _str("status"), _str("ready"),
        _int("ready_count"), _int("container_count"), _int("restarts"), _str("node"), _str("owner_kind"),
        _str("owner_name"), _ts("created_at"), _int("attention", nullable=False), _str("root_cause"),
        _json("labels"), *seen,
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pod")),
        sa.UniqueConstraint("cluster", "namespace", "name", name=op.f("uq_pod_cluster_namespace_name")),
    )
    op.create_index(op.f("ix_pod_attention"), "pod", ["attention"], unique=False)
    op.create_table(
        "container", _id(), _id("pod_id"), _str("name", nullable=False),
        sa.Column("init", sa.Boolean(), nullable=False), _str("image"), sa.Column("ready", sa.Boolean()),
        _str("state"), _str("reason"), _str("message"), _int("exit_code"),
        _int("restart_count", nullable=False), _str("last_reason"), _int("last_exit_code"),
        _ts("last_finished_at"), _fk("pod_id", "container", "pod"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_container")),
        sa.UniqueConstraint("pod_id", "name", "init", name=op.f("uq_container_pod_id_name_init")),
    )
    op.create_table(
        "log_line", _id(), _id("pod_id"), _str("container", nullable=False), _ts("ts"),
        _int("seq", nullable=False), _str("level", nullable=False), _str("text", nullable=False),
        _fk("pod_id", "log_line", "pod"), sa.PrimaryKeyConstraint("id", name=op.f("pk_log_line")),
    )
    op.create_index(op.f("ix_log_line_pod_id_level"), "log_line", ["pod_id", "level"], unique=False)
