"""Writes one cluster's rows, of every registered kind, into the database in one transaction.

Rows are compared by ``data_hash``: new rows are inserted, changed rows updated (and revived if
tombstoned), unchanged rows get only a bulk ``last_seen_at`` touch, and rows that vanished from a
kind that was fetched successfully are tombstoned (``deleted_at``). A kind whose fetch failed is
left exactly as it was. The cluster's user-owned columns (owner, team, notes, tags) are never in
an UPDATE. Called by the inventory pipeline; also ``tombstone_clusters`` and ``purge_tombstones``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, and_, delete, select, text, update
from sqlalchemy.engine import Connection

from nautilus_core.db import metadata, row_hash, touch, upsert
from nautilus_core.db.clusters import lock_or_create_cluster
from nautilus_core.inventory.endpoint import strip_credentials
from nautilus_core.inventory.kinds import BUILTIN_KINDS
from nautilus_core.inventory.parse import EXAMPLES, MAX_NAME, printable
from nautilus_core.types import ClusterRef, Kind

TABLES = metadata.tables
CLUSTER = TABLES["cluster"]
CHUNK = 5000
#: Longest value of a stored key column (a Kubernetes name is at most 253 characters; the limit
#: keeps unique indexes below PostgreSQL's 2704-byte btree row limit whatever the characters).
MAX_KEY = MAX_NAME
#: PostgreSQL advisory lock held by the run that purges tombstones (one purger at a time).
PURGE_LOCK_KEY = 0x6E61757450555247


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def cluster_values(ref: ClusterRef, version: str | None, children: Mapping[str, list[dict[str, Any]]],
                   problems: list[dict[str, Any]]) -> dict[str, Any]:
    """The cluster row's synced columns this run can vouch for (the rest are left as they are)."""
    values: dict[str, Any] = {
        "key": ref.key, "provider": ref.provider, "account": ref.account, "location": ref.location,
        "name": ref.name, "status": ref.status, "endpoint": strip_credentials(ref.endpoint),
        "labels": dict(ref.labels),
        "problems": problems,
    }
    if version is not None or ref.version is not None:
        values["kubernetes_version"] = version or ref.version
    nodes, namespaces = children.get("nodes"), children.get("namespaces")
    if nodes is not None:
        values["node_count"] = len(nodes)
        values["ready_node_count"] = sum(1 for n in nodes if n.get("ready"))
    elif ref.node_count is not None:
        values["node_count"] = ref.node_count
    if namespaces is not None:
        totals: dict[str, int] = {}
        for ns in namespaces:
            for status, count in (ns.get("pod_counts") or {}).items():
                totals[status] = totals.get(status, 0) + count
        values["pod_counts"] = dict(sorted(totals.items()))
    return values


def write_cluster(conn: Connection, ref: ClusterRef, version: str | None,
                  children: Mapping[str, list[dict[str, Any]]], problems: list[dict[str, Any]],
                  now: datetime, kinds: Mapping[str, Kind] = BUILTIN_KINDS) -> dict[str, dict[str, int]]:
    """Upsert the cluster and its children; returns counts per table. Caller owns the transaction.

    ``children`` holds rows by kind name (``inventory.kinds.merge_rows``), only for the kinds that
    were fetched. The cluster row is locked (``SELECT .. FOR UPDATE``) or created with ``INSERT ..
    ON CONFLICT DO NOTHING`` (then locked), so runs writing the same cluster at once (several
    ``inventory sync`` processes) take turns instead of failing on the unique key. A child whose key
    cannot be stored (a NUL byte, longer than ``MAX_KEY``) is left out and counted in the cluster's
    problems; NUL bytes elsewhere become U+FFFD.
    """
    problems = list(problems)
    rows = {name: _storable(kinds[name], found, problems) for name, found in children.items() if name in kinds}
    values = clean(cluster_values(ref, version, children, problems))
    counts = {"cluster": {"inserted": 0, "updated": 0, "unchanged": 0, "tombstoned": 0}}
    cluster_id, existing = lock_or_create_cluster(conn, values, now)
    if existing is None:
        counts["cluster"]["inserted"] = 1
    else:
        changed = {k: v for k, v in values.items() if existing[k] != v}
        if changed or existing["deleted_at"] is not None:
            merged = {k: existing[k] for k in values} | changed
            conn.execute(update(CLUSTER).where(CLUSTER.c.id == cluster_id).values(
                **changed, last_seen_at=now, deleted_at=None, data_hash=row_hash(merged)))
            counts["cluster"]["updated"] = 1
        else:
            conn.execute(update(CLUSTER).where(CLUSTER.c.id == cluster_id).values(last_seen_at=now))
            counts["cluster"]["unchanged"] = 1
    for name, found in rows.items():
        kind = kinds[name]
        counts[kind.table.name] = sync_children(conn, kind.table, kind.key, cluster_id, found, now)
    return counts


def key_problem(value: Any, limit: int = MAX_KEY) -> str | None:
    """Why ``value`` cannot be (part of) a stored key, or ``None`` when it can."""
    if not isinstance(value, str):
        return "not a string"
    if "\x00" in value:
        return "contains a NUL byte"
    if len(value) > limit:
        return f"longer than {limit} characters"
    return None


def _storable(kind: Kind, rows: list[dict[str, Any]], problems: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` whose key columns can be stored on every backend, cleaned; the others are counted."""
    key = kind.key
    out = []
    for row in rows:
        bad = next((k for k in key if key_problem(row.get(k)) is not None), None)
        if bad is None:
            out.append(clean(row))
            continue
        label = f"{kind.name.rstrip('s')}:invalid-{bad}"
        entry = next((p for p in problems if p.get("label") == label), None)
        if entry is None:
            entry = {"label": label, "count": 0, "objects": []}
            problems.append(entry)
        entry["count"] += 1
        shown = entry.setdefault("objects", [])
        if len(shown) < EXAMPLES:
            shown.append(printable("/".join(str(row.get(k)) for k in key)))
    return out


def clean(value: Any) -> Any:
    """``value`` with every NUL byte in its strings (keys included) replaced by U+FFFD; the same object
    when there is none (PostgreSQL text and jsonb cannot hold NUL, SQLite can: same data, same rows)."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd") if "\x00" in value else value
    if isinstance(value, dict):
        items = [(clean(k), clean(v)) for k, v in value.items()]
        if all(k is k0 and v is v0 for (k, v), (k0, v0) in zip(items, value.items(), strict=True)):
            return value
        return dict(items)
    if isinstance(value, list | tuple):
        cleaned = [clean(v) for v in value]
        if all(a is b for a, b in zip(cleaned, value, strict=True)):
            return value
        return type(value)(cleaned) if isinstance(value, list) else tuple(cleaned)
    return value


def sync_children(conn: Connection, table: Table, key: tuple[str, ...], cluster_id: int,
                  rows: list[dict[str, Any]], now: datetime) -> dict[str, int]:
    """Diff ``rows`` against what the database holds for the cluster and write only the difference."""
    keyf: Callable[[Mapping[str, Any]], tuple[Any, ...]] = lambda r: tuple(r[k] for k in key)  # noqa: E731
    cols = [table.c.id, table.c.data_hash, table.c.deleted_at, *(table.c[k] for k in key)]
    found = conn.execute(select(*cols).where(table.c.cluster_id == cluster_id)).mappings()
    existing = {keyf(dict(r)): r for r in found}
    write: list[dict[str, Any]] = []
    unchanged: list[int] = []
    seen: set[tuple[Any, ...]] = set()
    inserted = 0
    for row in rows:
        k = keyf(row)
        if k in seen:  # the API answered a duplicate: keep the first
            continue
        seen.add(k)
        digest = row_hash(row)
        old = existing.get(k)
        if old is not None and old["data_hash"] == digest and old["deleted_at"] is None:
            unchanged.append(old["id"])
            continue
        inserted += old is None
        write.append(row | {"cluster_id": cluster_id, "data_hash": digest, "first_seen_at": now,
                            "last_seen_at": now, "deleted_at": None})
    if write:
        update_cols = [c for c in write[0] if c not in ("cluster_id", "first_seen_at", *key)]
        upsert(conn, table, write, key=["cluster_id", *key], update=update_cols, only_if_changed=None)
    if unchanged:
        touch(conn, table, unchanged, column="last_seen_at", value=now)
    vanished = [r["id"] for k, r in existing.items() if k not in seen and r["deleted_at"] is None]
    if vanished:
        touch(conn, table, vanished, column="deleted_at", value=now)
    return {"inserted": inserted, "updated": len(write) - inserted, "unchanged": len(unchanged),
            "tombstoned": len(vanished)}


def tombstone_clusters(conn: Connection, provider: str, keep_keys: set[str], now: datetime,
                       owns: Callable[[str], bool] = lambda key: True) -> list[str]:
    """Tombstone live clusters of ``provider`` not in ``keep_keys`` (and owned by this shard)."""
    live = conn.execute(select(CLUSTER.c.id, CLUSTER.c.key).where(
        and_(CLUSTER.c.provider == provider, CLUSTER.c.deleted_at.is_(None)))).all()
    gone = [(cid, key) for cid, key in live if key not in keep_keys and owns(key)]
    if gone:
        ids = sorted(cid for cid, _ in gone)
        # lock in id order: concurrent runs tombstoning the same clusters wait instead of deadlocking
        conn.execute(select(CLUSTER.c.id).where(CLUSTER.c.id.in_(ids)).order_by(CLUSTER.c.id).with_for_update())
        touch(conn, CLUSTER, ids, column="deleted_at", value=now)
    return [key for _, key in gone]


def purge_tombstones(conn: Connection, retention: timedelta, now: datetime,
                     kinds: Mapping[str, Kind] = BUILTIN_KINDS) -> int:
    """Delete rows of every kind tombstoned longer than ``retention`` ago, and purged clusters' children."""
    cutoff = now - retention
    purged = 0
    if conn.dialect.name == "postgresql" and not conn.execute(
            text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": PURGE_LOCK_KEY}).scalar():
        return 0  # another run is purging right now: the same rows, no need to queue behind it
    tables = [kind.table for kind in kinds.values()]
    for table in tables:
        purged += conn.execute(delete(table).where(table.c.deleted_at < cutoff)).rowcount or 0
    old = [cid for (cid,) in conn.execute(select(CLUSTER.c.id).where(CLUSTER.c.deleted_at < cutoff))]
    for ids in _chunks(old):
        for table in tables:
            conn.execute(delete(table).where(table.c.cluster_id.in_(ids)))
        purged += conn.execute(delete(CLUSTER).where(CLUSTER.c.id.in_(ids))).rowcount or 0
    return purged
