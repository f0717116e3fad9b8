"""Writes one cluster's pods, containers, Events and log entries, diffing against what is stored.

Owns the write side of a collection, inside the caller's transaction (one per cluster): the stored
rows of the pods being written are read first and only the difference goes back — new or changed
pods, containers and Events are upserted in bulk (``db.upsert``), unchanged pods only get a bulk
``last_seen_at`` touch (with the columns that age with the clock, ``rows.AGING_COLUMNS``, when they
moved), log entries already stored
are recognised by fingerprint and skipped, and each container keeps at most ``max_lines`` entries
(the oldest go first). A container whose log call failed keeps its stored lines. Pods that vanished
from a namespace that was listed successfully are marked gone (``deleted_at``) and kept until the
retention purges them with their children. Called by ``podwatch.collect``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, delete, select, text, update
from sqlalchemy.engine import Connection

from nautilus_core.db import metadata, purge, touch, upsert
from nautilus_core.db.upsert import insert_missing
from nautilus_core.podwatch.rows import AGING_COLUMNS, LEVEL_COUNT, Entry, level_counts, pod_hash

POD, CONTAINER = metadata.tables["pod"], metadata.tables["container"]
LOG_LINE, POD_EVENT = metadata.tables["log_line"], metadata.tables["pod_event"]
#: PostgreSQL advisory lock of the collector writing a cluster (plus the cluster id): "podw" << 32
COLLECT_LOCK_KEY = 0x706F6477 << 32
#: pod ids per ``IN (...)`` read
ID_CHUNK = 500
_CONTAINER_VALUES = ("image", "ready", "state", "reason", "message", "exit_code", "started_at", "restart_count",
                     "last_reason", "last_message", "last_exit_code", "last_finished_at", "error_count",
                     "warning_count", "exception_count", "log_error")
LOG_COLUMNS = ("pod_id", "container", "previous", "ts", "seq", "level", "text", "fingerprint")
_EVENT_VALUES = ("type", "reason", "message", "count", "first_at", "last_at", "source")


@dataclass
class PodItem:
    """Everything collected about one pod this run."""

    namespace: str
    name: str
    row: dict[str, Any]  # pod columns without counts, cluster id, timestamps (``rows.pod_row``)
    containers: list[dict[str, Any]]
    entries: list[Entry] = field(default_factory=list)  # previous instance first, then current
    failed_logs: dict[str, str] = field(default_factory=dict)  # container -> error: stored lines kept
    events: list[dict[str, Any]] | None = None  # None: Events unknown this run (kept as they were)


@dataclass
class Written:
    """What :meth:`ClusterStore.write` stored for one pod (the seed line's counts)."""

    namespace: str
    containers: int
    logs: int


def _chunks(items: Sequence[Any], size: int = ID_CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


class ClusterStore:
    """The rows of one cluster in one transaction; ``stats`` counts every row written."""

    def __init__(self, conn: Connection, cluster_id: int, now: datetime, *, max_lines: int) -> None:
        self.conn, self.cluster_id, self.now, self.max_lines = conn, cluster_id, now, max_lines
        self.stats: Counter[str] = Counter()
        if conn.dialect.name == "postgresql":  # one collector per cluster at a time (SQLite: BEGIN IMMEDIATE)
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": COLLECT_LOCK_KEY + cluster_id})
        cols = [POD.c.id, POD.c.namespace, POD.c.name, POD.c.uid, POD.c.data_hash, POD.c.deleted_at,
                *(POD.c[c] for c in AGING_COLUMNS)]
        found = conn.execute(select(*cols).where(POD.c.cluster_id == cluster_id)).mappings()
        self.pods = {(r["namespace"], r["name"]): dict(r) for r in found}
        self.seen: set[tuple[str, str]] = set()
        self._reset()

    # ------------------------------------------------------------------ reads

    def _by_pod(self, table: Any, columns: Sequence[str], pod_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
        out: dict[int, list[dict[str, Any]]] = {}
        if not pod_ids:
            return out
        cols = [table.c[c] for c in ("id", "pod_id", *columns)]
        for ids in _chunks(pod_ids):
            for r in self.conn.execute(select(*cols).where(table.c.pod_id.in_(ids))).mappings():
                out.setdefault(r["pod_id"], []).append(dict(r))
        return out

    def _stored_logs(self, pod_ids: Sequence[int]) -> dict[int, list[Any]]:
        """``(id, container, fingerprint, seq, level, previous)`` of the stored entries, by pod (plain
        tuples: a rerun reads every stored entry of the cluster)."""
        out: dict[int, list[Any]] = {}
        cols = [LOG_LINE.c[c] for c in ("pod_id", "id", "container", "fingerprint", "seq", "level", "previous")]
        for ids in _chunks(pod_ids):
            for r in self.conn.execute(select(*cols).where(LOG_LINE.c.pod_id.in_(ids))).all():
                out.setdefault(r[0], []).append(r[1:])
        return out

    # ------------------------------------------------------------------ writes

    def write(self, items: Sequence[PodItem]) -> list[Written]:
        """Write a batch of pods (with their containers, Events and entries); returns their counts."""
        pairs = [(self.pods[(i.namespace, i.name)], i) for i in items if (i.namespace, i.name) in self.pods]
        known = [p for p, _ in pairs]
        renewed = [p["id"] for p, i in pairs if p.get("uid") != i.row.get("uid")]
        if renewed:  # same name, another pod (a StatefulSet replica): the old one's evidence goes
            for table in (LOG_LINE, POD_EVENT, CONTAINER):
                for ids in _chunks(renewed):
                    self.stats[f"{table.name}_deleted"] += self.conn.execute(
                        delete(table).where(table.c.pod_id.in_(ids))).rowcount or 0
        ids = [p["id"] for p in known]
        logs = self._stored_logs(ids)
        containers = self._by_pod(CONTAINER, ("name", "init", *_CONTAINER_VALUES), ids)
        events = self._by_pod(POD_EVENT, ("uid", *_EVENT_VALUES), ids)
        pod_rows: list[dict[str, Any]] = []
        touched: list[int] = []
        aged: list[dict[str, Any]] = []
        plans = []
        for item in items:
            key = (item.namespace, item.name)
            self.seen.add(key)
            old = self.pods.get(key)
            pod_id = old["id"] if old else None
            stored = containers.get(pod_id, []) if pod_id else []
            restarted = {c["name"] for c in item.containers for o in stored
                         if o["name"] == c["name"] and (c.get("restart_count") or 0) > (o["restart_count"] or 0)}
            plan = self._plan_logs(item, logs.get(pod_id, []) if pod_id else [], restarted)
            plans.append(plan)
            row = item.row | plan.pod_counts
            row["data_hash"] = pod_hash(row)
            if old and old["data_hash"] == row["data_hash"] and old["deleted_at"] is None:
                if any(old[c] != row[c] for c in AGING_COLUMNS):
                    aged.append({"b_id": old["id"]} | {f"b_{c}": row[c] for c in AGING_COLUMNS})
                    old.update({c: row[c] for c in AGING_COLUMNS})
                else:
                    touched.append(old["id"])
                continue
            pod_rows.append(row | {"cluster_id": self.cluster_id, "first_seen_at": self.now,
                                   "last_seen_at": self.now, "deleted_at": None})
            self.stats["pod_inserted" if old is None else "pod_updated"] += 1
        if pod_rows:
            update_cols = [c for c in pod_rows[0] if c not in ("cluster_id", "namespace", "name", "first_seen_at")]
            result = upsert(self.conn, POD, pod_rows, key=("cluster_id", "namespace", "name"), update=update_cols,
                            only_if_changed=None, returning=("id", "namespace", "name"))
            for r in result.rows:
                self.pods[(r.namespace, r.name)] = {"id": r.id, "deleted_at": None}
        if touched:
            self.stats["pod_touched"] += touch(self.conn, POD, touched, value=self.now)
        if aged:
            stmt = update(POD).where(POD.c.id == bindparam("b_id")).values(
                {c: bindparam(f"b_{c}") for c in AGING_COLUMNS} | {"last_seen_at": self.now})
            self.conn.execute(stmt, aged)
            self.stats["pod_aged"] += len(aged)
        out = []
        for item, plan in zip(items, plans, strict=True):
            pod_id = self.pods[(item.namespace, item.name)]["id"]
            self._write_children(item, plan, pod_id, containers.get(pod_id, []), events.get(pod_id, []))
            out.append(Written(item.namespace, len(item.containers), plan.kept))
        self._flush()
        return out

    # -- logs

    @dataclass
    class _Plan:
        new: list[tuple[int, list[Entry]]] = field(default_factory=list)  # (seq of the first, entries)
        flipped: list[tuple[int, bool]] = field(default_factory=list)  # (log_line id, previous)
        dropped: list[int] = field(default_factory=list)
        container_counts: dict[str, dict[str, int]] = field(default_factory=dict)
        pod_counts: dict[str, int] = field(default_factory=dict)
        kept: int = 0

    def _plan_logs(self, item: PodItem, stored: list[Any], restarted: set[str]) -> ClusterStore._Plan:
        """New entries (with their sequence numbers), entries whose instance changed, entries dropped by
        the bound, and the level counts of what is kept. New entries always follow the stored ones
        (higher ``seq``), so the bound drops stored entries first. After a restart, the stored entries of
        the container's earlier instance that the current log no longer holds belong to previous instances.
        ``stored``: ``(id, container, fingerprint, seq, level, previous)`` rows of the pod."""
        plan = ClusterStore._Plan()
        by_container: dict[str, list[Any]] = {}
        for r in stored:
            by_container.setdefault(r[1], []).append(r)
        incoming: dict[str, list[Entry]] = {}
        for e in item.entries:
            incoming.setdefault(e.container, []).append(e)
        seq = max((r[3] for r in stored), default=-1) + 1
        totals: Counter[str] = Counter()
        limit = self.max_lines
        for name in {c["name"] for c in item.containers} | set(by_container) | set(incoming):
            old = by_container.get(name, [])
            new: list[Entry] = []
            if name not in item.failed_logs:
                fresh = incoming.get(name, [])
                if name in restarted:
                    current = {e.fingerprint for e in fresh if not e.previous}
                    plan.flipped += [(r[0], True) for r in old if not r[5] and r[2] not in current]
                known = {r[2]: r for r in old}
                seen: set[str] = set()
                for e in fresh:
                    hit = known.get(e.fingerprint)
                    if hit is not None:
                        if bool(hit[5]) != e.previous:
                            plan.flipped.append((hit[0], e.previous))
                    elif e.fingerprint not in seen:
                        seen.add(e.fingerprint)
                        new.append(e)
            excess = len(old) + len(new) - limit
            if excess > 0:  # the oldest go first: stored entries, then the oldest of the new ones
                old = sorted(old, key=lambda r: r[3])
                drop = old[:excess]
                plan.dropped += [r[0] for r in drop]
                old = old[len(drop):]
                if excess > len(drop):
                    new = new[excess - len(drop):]
            if new:
                plan.new.append((seq, new))
                seq += len(new)
            levels = Counter(r[4] for r in old)
            levels.update(e.level for e in new)
            counts = {column: levels.get(level, 0) for level, column in LEVEL_COUNT.items()}
            plan.container_counts[name] = counts
            totals.update(counts)
            plan.kept += len(old) + len(new)
        plan.pod_counts = {c: totals.get(c, 0) for c in ("error_count", "warning_count", "exception_count")}
        return plan

    # -- children

    def _write_children(self, item: PodItem, plan: ClusterStore._Plan, pod_id: int,
                        stored_containers: list[dict[str, Any]], stored_events: list[dict[str, Any]]) -> None:
        old = {(c["name"], bool(c["init"])): c for c in stored_containers}
        present = set()
        for c in item.containers:
            counts = plan.container_counts.get(c["name"]) or level_counts(())
            row = c | counts | {"log_error": item.failed_logs.get(c["name"])}
            k = (row["name"], bool(row["init"]))
            present.add(k)
            before = old.get(k)
            if before is None or any(before[col] != row[col] for col in _CONTAINER_VALUES):
                self._containers.append(row | {"pod_id": pod_id})
        self._container_deletes += [c["id"] for k, c in old.items() if k not in present]
        for first, new in plan.new:
            self._logs += [(pod_id, e[0], e[1], e[2], first + i, e[3], e[4], e[5]) for i, e in enumerate(new)]
        self._flips += plan.flipped
        self._log_deletes += plan.dropped
        if item.events is None:
            return
        stored = {e["uid"]: e for e in stored_events}
        listed = set()
        for ev in item.events:
            listed.add(ev["uid"])
            before = stored.get(ev["uid"])
            if before is None or any(before[col] != ev[col] for col in _EVENT_VALUES):
                self._events.append(ev | {"pod_id": pod_id})
        self._event_deletes += [e["id"] for uid, e in stored.items() if uid not in listed]

    def _reset(self) -> None:
        self._containers: list[dict[str, Any]] = []
        self._container_deletes: list[int] = []
        self._logs: list[tuple[Any, ...]] = []
        self._flips: list[tuple[int, bool]] = []
        self._log_deletes: list[int] = []
        self._events: list[dict[str, Any]] = []
        self._event_deletes: list[int] = []

    def _flush(self) -> None:
        conn = self.conn
        if self._containers:
            upsert(conn, CONTAINER, self._containers, key=("pod_id", "name", "init"), only_if_changed=None)
        self._delete(CONTAINER, self._container_deletes)
        if self._log_deletes:
            self._delete(LOG_LINE, self._log_deletes)
        if self._logs:
            insert_missing(conn, LOG_LINE, LOG_COLUMNS, self._logs, key=("pod_id", "container", "fingerprint"),
                           checked=True)  # stored fingerprints were read under the cluster's lock
        if self._flips:
            stmt = update(LOG_LINE).where(LOG_LINE.c.id == bindparam("b_id")).values(previous=bindparam("b_prev"))
            conn.execute(stmt, [{"b_id": i, "b_prev": p} for i, p in dict(self._flips).items()])
        if self._events:
            upsert(conn, POD_EVENT, self._events, key=("pod_id", "uid"), only_if_changed=None)
        self._delete(POD_EVENT, self._event_deletes)
        self.stats.update({"container_written": len(self._containers), "log_line_inserted": len(self._logs),
                           "log_line_updated": len(dict(self._flips)), "pod_event_written": len(self._events)})
        self._reset()

    def _delete(self, table: Any, ids: list[int]) -> None:
        for chunk in _chunks(ids, 5000):
            self.stats[f"{table.name}_deleted"] += self.conn.execute(
                delete(table).where(table.c.id.in_(chunk))).rowcount or 0

    # ------------------------------------------------------------------ vanished pods

    def mark_gone(self, namespaces: Iterable[str] | None) -> int:
        """Mark pods not seen this run gone, in ``namespaces`` (listed successfully) or, with ``None``,
        in the whole cluster; returns how many."""
        scope = None if namespaces is None else set(namespaces)
        gone = [p["id"] for key, p in self.pods.items()
                if key not in self.seen and p.get("deleted_at") is None and (scope is None or key[0] in scope)]
        if gone:
            touch(self.conn, POD, gone, column="deleted_at", value=self.now)
        self.stats["pod_gone"] += len(gone)
        return len(gone)

    def purge(self, retention: timedelta) -> int:
        """Delete pods gone longer than ``retention`` ago, with their containers, Events and lines."""
        cutoff = self.now - retention
        if not any(p.get("deleted_at") is not None and p["deleted_at"] < cutoff for p in self.pods.values()):
            return 0  # nothing to purge: no statement (a rerun with nothing changed writes nothing)
        count = purge(self.conn, POD, cutoff, where_clause=and_(POD.c.cluster_id == self.cluster_id))
        self.stats["pod_purged"] += count
        return count

