"""The collector's write side on SQLite and PostgreSQL: ``db.insert_missing`` (log entries as tuples)
stores what ``db.upsert`` stores, skips entries already stored, and the per-container bound keeps the
newest entries across instances."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from collect_helpers import rows, scalar
from sqlalchemy import text

from nautilus_core.db import LogLine, utcnow
from nautilus_core.db.clusters import cluster_identity, lock_or_create_cluster
from nautilus_core.db.upsert import insert_missing, upsert
from nautilus_core.podwatch.rows import Entry
from nautilus_core.podwatch.store import LOG_COLUMNS, ClusterStore, PodItem


def _pod(engine: Any) -> int:
    now = utcnow()
    with engine.begin() as conn:
        cluster_id, _ = lock_or_create_cluster(conn, cluster_identity("kubeconfig", "c1"), now)
        conn.execute(text("INSERT INTO pod (cluster_id, namespace, name, health, attention, error_count, "
                          "warning_count, exception_count, first_seen_at, last_seen_at, data_hash) VALUES "
                          "(:c, 'ns', 'p', 'healthy', 0, 0, 0, 0, :t, :t, '')"), {"c": cluster_id, "t": now})
        return int(conn.execute(text("SELECT id FROM pod")).scalar_one())


def test_insert_missing_stores_what_upsert_stores_and_skips_stored_keys(engine: Any) -> None:
    pod_id = _pod(engine)
    ts = datetime(2030, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    a = (pod_id, "app", True, ts, 1, "error", "boom", "f-a")
    with engine.begin() as conn:
        upsert(conn, LogLine, [dict(zip(LOG_COLUMNS, a, strict=True))], key=("pod_id", "container", "fingerprint"),
               only_if_changed=None)
    b = (pod_id, "app", True, ts, 2, "error", "boom", "f-b")
    with engine.begin() as conn:
        # f-a is stored already (skipped, even with other values), f-b is new
        assert insert_missing(conn, LogLine, LOG_COLUMNS, [(*a[:4], 99, *a[5:]), b],
                              key=("pod_id", "container", "fingerprint")) == 1
    raw = rows(engine, "SELECT fingerprint, seq, previous, CAST(ts AS VARCHAR(64)) AS ts FROM log_line "
                       "ORDER BY fingerprint")
    assert [(r["fingerprint"], r["seq"]) for r in raw] == [("f-a", 1), ("f-b", 2)]
    assert raw[0]["ts"] == raw[1]["ts"]  # the same stored form whichever path wrote it
    assert raw[0]["previous"] == raw[1]["previous"]


def _entries(container: str, texts: list[str], start: datetime, previous: bool = False) -> list[Entry]:
    return [Entry(container, previous, start + timedelta(seconds=i), "info", t, f"{container}-{t}")
            for i, t in enumerate(texts)]


def _item(entries: list[Entry], restarts: int = 0) -> PodItem:
    container = {"name": "app", "init": False, "image": "x", "ready": True, "state": "running", "reason": None,
                 "message": None, "exit_code": None, "started_at": None, "restart_count": restarts,
                 "last_reason": None, "last_message": None, "last_exit_code": None, "last_finished_at": None}
    row = {"namespace": "ns", "name": "p", "uid": "u1", "phase": "Running", "status": "Running", "ready": "1/1",
           "ready_count": 1, "container_count": 1, "restarts": restarts, "restarts_text": str(restarts),
           "last_restart_at": None, "node": None, "owner_kind": None, "owner_name": None, "created_at": None,
           "deletion_requested_at": None, "health": "healthy", "attention": 0, "top_container": None,
           "top_reason": None, "top_message": None, "top_hint": None, "problems": None, "labels": None}
    return PodItem("ns", "p", row, [container], entries, {}, None)


def test_the_bound_keeps_the_newest_entries_and_a_restart_moves_earlier_ones_to_previous(engine: Any) -> None:
    t0 = datetime(2030, 1, 1, tzinfo=UTC)

    def write(item: PodItem) -> None:
        with engine.begin() as conn:
            cluster_id, _ = lock_or_create_cluster(conn, cluster_identity("kubeconfig", "c1"), utcnow())
            ClusterStore(conn, cluster_id, utcnow(), max_lines=4).write([item])

    write(_item(_entries("app", ["a", "b", "c"], t0)))
    write(_item(_entries("app", ["b", "c", "d"], t0 + timedelta(seconds=1))))  # b, c read again: not twice
    assert [r["text"] for r in rows(engine, "SELECT text FROM log_line ORDER BY seq")] == ["a", "b", "c", "d"]
    # the container restarts: the new instance logs e, f; the bound (4) drops the oldest (a, b)
    write(_item(_entries("app", ["e", "f"], t0 + timedelta(seconds=9)), restarts=1))
    stored = rows(engine, "SELECT text, previous FROM log_line ORDER BY seq")
    assert [r["text"] for r in stored] == ["c", "d", "e", "f"]
    # what the current instance no longer shows belongs to the earlier instance
    assert [bool(r["previous"]) for r in stored] == [True, True, False, False]
    assert scalar(engine, "SELECT count(*) FROM container") == 1
