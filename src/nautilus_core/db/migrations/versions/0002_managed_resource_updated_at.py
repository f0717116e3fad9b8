"""managed_resource.updated_at moves when a desired-state column changes, whoever writes it.

Users change rows in plain SQL (``UPDATE managed_resource SET replicas = 5 ...``) without touching
``updated_at``; the controller's change feed polls by ``updated_at``. A trigger on the spec columns
sets it (only when the statement did not), on SQLite and PostgreSQL. The controller's own status
writes touch no spec column, so they never fire it.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SPEC = "engine, image, replicas, storage_size, cpu, memory, lifecycle_mode, desired_state, extra_spec"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION nautilus_touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                NEW.updated_at := now();
                RETURN NEW;
            END $$""")
        op.execute(f"""
            CREATE TRIGGER managed_resource_touch_updated_at
            BEFORE UPDATE OF {SPEC} ON managed_resource
            FOR EACH ROW WHEN (NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at)
            EXECUTE FUNCTION nautilus_touch_updated_at()""")
    else:
        op.execute(f"""
            CREATE TRIGGER managed_resource_touch_updated_at
            AFTER UPDATE OF {SPEC} ON managed_resource
            FOR EACH ROW WHEN NEW.updated_at IS OLD.updated_at
            BEGIN
                UPDATE managed_resource SET updated_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = NEW.id;
            END""")


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS managed_resource_touch_updated_at"
               + (" ON managed_resource" if op.get_bind().dialect.name == "postgresql" else ""))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS nautilus_touch_updated_at()")
