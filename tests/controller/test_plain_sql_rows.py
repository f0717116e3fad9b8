"""Rows written with the database's own command-line client are reconciled and get their status.

SQLite stores ``CURRENT_TIMESTAMP`` as ``'2026-12-01 18:48:53'`` and our trigger writes three
fractional digits; SQLAlchemy renders six. The controller must write status whatever the text form.
"""

from __future__ import annotations

from conftest import make_ready, until
from plain_sql import run_sql


def sts(emu, name):
    return emu.get("apps/v1", "statefulsets", name, "team-payments")


def test_a_row_inserted_with_the_sql_client_reaches_ready_then_deleted(controller, rows, kube_emulator, db_url):
    controller()
    run_sql(db_url, "INSERT INTO managed_resource (team, name, engine, replicas, memory) "
                    "VALUES ('payments', 'cli', 'redis', 1, '256Mi');")
    until(lambda: sts(kube_emulator, "cli"), what="StatefulSet created")
    row = until(lambda: (r := rows.get("payments", "cli"))["status"] == "provisioning" and r, what="provisioning")
    assert row["observed_generation"] == 1 and row["status_message"] == "0/1 replicas ready"

    make_ready(kube_emulator, "team-payments", "cli")
    row = until(lambda: (r := rows.get("payments", "cli"))["status"] == "ready" and r, what="ready")
    assert row["ready_replicas"] == 1

    run_sql(db_url, "UPDATE managed_resource SET replicas = 3 WHERE team = 'payments' AND name = 'cli';")
    until(lambda: sts(kube_emulator, "cli")["spec"]["replicas"] == 3, what="scaled")
    row = until(lambda: (r := rows.get("payments", "cli"))["status_message"] == "1/3 replicas ready" and r,
                what="status after the scale")
    assert row["observed_generation"] == 2 and row["status"] == "provisioning"

    run_sql(db_url, "UPDATE managed_resource SET desired_state = 'deleted' WHERE name = 'cli';")
    row = until(lambda: (r := rows.get("payments", "cli"))["status"] == "deleted" and r, what="deleted")
    assert sts(kube_emulator, "cli") is None and row["observed_generation"] == 3
    assert kube_emulator.get("v1", "services", "cli", "team-payments") is None
