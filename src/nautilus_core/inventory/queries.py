"""Read side of the inventory: clusters, namespaces, nodes, services and sync runs as plain dicts.

Called by ``Nautilus`` (and so the ``nautilus inventory`` listing commands). Tombstoned rows are
hidden unless ``include_deleted``; a run whose process died shows as ``interrupted``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.engine import Engine

from nautilus_core.db import metadata, utcnow
from nautilus_core.inventory.endpoint import strip_credentials
from nautilus_core.inventory.runs import interrupted_error, is_dead

TABLES = metadata.tables
CLUSTER = TABLES["cluster"]
INTERNAL = {"id", "cluster_id", "data_hash"}


def _plain(row: Any, drop: set[str] = INTERNAL) -> dict[str, Any]:
    out = {}
    for key, value in row.items():
        if key in drop:
            continue
        out[key] = value.isoformat() if hasattr(value, "isoformat") else value
    return out


def clusters(engine: Engine, providers: Sequence[str] = (), names: Sequence[str] = (),
             include_deleted: bool = False) -> list[dict[str, Any]]:
    query = select(CLUSTER).order_by(CLUSTER.c.provider, CLUSTER.c.account, CLUSTER.c.location, CLUSTER.c.name)
    if providers:
        query = query.where(CLUSTER.c.provider.in_(providers))
    if names:
        query = query.where(CLUSTER.c.name.in_(names) | CLUSTER.c.key.in_(names))
    if not include_deleted:
        query = query.where(CLUSTER.c.deleted_at.is_(None))
    with engine.connect() as conn:
        rows = [_plain(r) for r in conn.execute(query).mappings()]
    for row in rows:  # rows written before endpoints were stored without credentials
        row["endpoint"] = strip_credentials(row.get("endpoint"))
    return rows


def _children(engine: Engine, table: Table, order: Sequence[str], providers: Sequence[str],
              names: Sequence[str], include_deleted: bool) -> list[dict[str, Any]]:
    query = (select(CLUSTER.c.name.label("cluster"), CLUSTER.c.provider, table)
             .join(CLUSTER, CLUSTER.c.id == table.c.cluster_id)
             .order_by(CLUSTER.c.provider, CLUSTER.c.name, *(table.c[o] for o in order)))
    if providers:
        query = query.where(CLUSTER.c.provider.in_(providers))
    if names:
        query = query.where(CLUSTER.c.name.in_(names) | CLUSTER.c.key.in_(names))
    if not include_deleted:
        query = query.where(table.c.deleted_at.is_(None), CLUSTER.c.deleted_at.is_(None))
    with engine.connect() as conn:
        return [_plain(r) for r in conn.execute(query).mappings()]


def namespaces(engine: Engine, providers: Sequence[str] = (), clusters: Sequence[str] = (),
               include_deleted: bool = False) -> list[dict[str, Any]]:
    return _children(engine, TABLES["namespace"], ["name"], providers, clusters, include_deleted)


def nodes(engine: Engine, providers: Sequence[str] = (), clusters: Sequence[str] = (),
          include_deleted: bool = False) -> list[dict[str, Any]]:
    return _children(engine, TABLES["node"], ["name"], providers, clusters, include_deleted)


def services(engine: Engine, providers: Sequence[str] = (), clusters: Sequence[str] = (),
             include_deleted: bool = False) -> list[dict[str, Any]]:
    return _children(engine, TABLES["service"], ["namespace", "name"], providers, clusters, include_deleted)


def runs(engine: Engine, limit: int = 20) -> list[dict[str, Any]]:
    run_t, out_t = TABLES["sync_run"], TABLES["sync_outcome"]
    with engine.connect() as conn:
        found = [dict(r) for r in conn.execute(select(run_t).order_by(run_t.c.id.desc()).limit(limit)).mappings()]
        ids = [r["id"] for r in found]
        outcomes: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
        if ids:
            for r in conn.execute(select(out_t).where(out_t.c.run_id.in_(ids)).order_by(out_t.c.id)).mappings():
                outcomes[r["run_id"]].append(_plain(r, {"id", "run_id"}))
    now = utcnow()
    for run in found:  # a dead run not yet marked by a later run is shown as what it is
        if is_dead(run, now):
            run["status"], run["error"] = "interrupted", interrupted_error(run)
    return [_plain(r, set()) | {"outcomes": outcomes[r["id"]]} for r in found]
