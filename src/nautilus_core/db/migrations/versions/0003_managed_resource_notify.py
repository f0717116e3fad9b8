"""PostgreSQL: every insert or change of a managed_resource row is announced with NOTIFY.

Channel ``nautilus_managed_resource``, payload ``team/name``. The controller LISTENs and reconciles at
once instead of waiting for its poll. SQLite has no equivalent: nothing to do there.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("""
        CREATE FUNCTION nautilus_notify_managed_resource() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('nautilus_managed_resource', NEW.team || '/' || NEW.name);
            RETURN NULL;
        END $$""")
    op.execute("""
        CREATE TRIGGER managed_resource_notify_insert
        AFTER INSERT ON managed_resource
        FOR EACH ROW EXECUTE FUNCTION nautilus_notify_managed_resource()""")
    # Not "UPDATE OF updated_at": a value set by the BEFORE trigger of 0002 would not count as listed.
    # The controller's own status writes keep updated_at, so they announce nothing.
    op.execute("""
        CREATE TRIGGER managed_resource_notify_update
        AFTER UPDATE ON managed_resource
        FOR EACH ROW WHEN (NEW.updated_at IS DISTINCT FROM OLD.updated_at)
        EXECUTE FUNCTION nautilus_notify_managed_resource()""")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS managed_resource_notify_insert ON managed_resource")
    op.execute("DROP TRIGGER IF EXISTS managed_resource_notify_update ON managed_resource")
    op.execute("DROP FUNCTION IF EXISTS nautilus_notify_managed_resource()")
