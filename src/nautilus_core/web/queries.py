"""Read-only queries of the pod triage tables for the dashboard API.

Owns :class:`PodFilter`, :func:`data_version` (for the micro-cache) and the four reads the API
serves: :func:`list_pods` (filtered, sorted by attention, paged, with the total), :func:`pod_detail`
(one pod with its containers, Events and top issue), :func:`pod_logs` (its classified log entries,
filtered and paged, with counts per level) and :func:`summary` (pods per health per
cluster/namespace). Every function takes a SQLAlchemy engine,
runs plain ``SELECT`` statements (never writes) and returns JSON-ready dicts. Called by
``web.routes``; the tables are written by the podwatch collector.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, and_, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from nautilus_core.db.models import Cluster, Container, Health, LogLevel, LogLine, Pod, PodEvent

__all__ = ["PodFilter", "list_pods", "pod_detail", "pod_logs", "summary"]

POD = Pod.__table__  # type: ignore[attr-defined]
CLUSTER = Cluster.__table__  # type: ignore[attr-defined]
CONTAINER = Container.__table__  # type: ignore[attr-defined]
LOG = LogLine.__table__  # type: ignore[attr-defined]
EVENT = PodEvent.__table__  # type: ignore[attr-defined]

HEALTHS = tuple(h.value for h in Health)
LEVELS = tuple(level.value for level in LogLevel)


@dataclass(frozen=True)
class PodFilter:
    """Which pods a list or summary covers; empty means "any"."""

    clusters: Sequence[str] = ()     # cluster name or key
    namespaces: Sequence[str] = ()
    healths: Sequence[str] = ()
    text: str | None = None          # substring of name, status, node, owner, top reason/message
    owner: str | None = None         # owner name, or "Kind/name"
    gone: str = "include"            # include | exclude | only


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _conditions(f: PodFilter) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if f.clusters:
        where.append(or_(CLUSTER.c.name.in_(list(f.clusters)), CLUSTER.c.key.in_(list(f.clusters))))
    if f.namespaces:
        where.append(POD.c.namespace.in_(list(f.namespaces)))
    if f.healths:
        where.append(POD.c.health.in_(list(f.healths)))
    if f.text:
        pattern = _like(f.text)
        where.append(or_(*(func.lower(func.coalesce(col, "")).like(pattern, escape="\\")
                           for col in (POD.c.name, POD.c.status, POD.c.node, POD.c.owner_name,
                                       POD.c.top_reason, POD.c.top_message, POD.c.top_container))))
    if f.owner:
        kind, sep, name = f.owner.partition("/")
        if sep:
            where.append(and_(func.lower(POD.c.owner_kind) == kind.lower(), POD.c.owner_name == name))
        else:
            where.append(POD.c.owner_name == f.owner)
    if f.gone == "exclude":
        where.append(POD.c.deleted_at.is_(None))
    elif f.gone == "only":
        where.append(POD.c.deleted_at.is_not(None))
    return where


_LIST_COLUMNS = (
    POD.c.id, CLUSTER.c.name.label("cluster"), CLUSTER.c.key.label("cluster_key"), POD.c.namespace, POD.c.name,
    POD.c.phase, POD.c.status, POD.c.ready, POD.c.restarts, POD.c.restarts_text, POD.c.last_restart_at,
    POD.c.node, POD.c.owner_kind, POD.c.owner_name, POD.c.created_at, POD.c.deletion_requested_at,
    POD.c.health, POD.c.attention, POD.c.top_container, POD.c.top_reason, POD.c.top_message, POD.c.top_hint,
    POD.c.error_count, POD.c.warning_count, POD.c.exception_count, POD.c.last_seen_at, POD.c.deleted_at,
)


def _pod_item(row: Any) -> dict[str, Any]:
    m = row._mapping
    top = None
    if m["top_reason"] or m["top_message"]:
        top = {"container": m["top_container"], "reason": m["top_reason"], "message": m["top_message"],
               "hint": m["top_hint"]}
    return {
        "id": m["id"], "cluster": m["cluster"], "cluster_key": m["cluster_key"], "namespace": m["namespace"],
        "name": m["name"], "phase": m["phase"], "status": m["status"], "ready": m["ready"],
        "restarts": m["restarts"] or 0, "restarts_text": m["restarts_text"], "last_restart_at": m["last_restart_at"],
        "node": m["node"], "owner_kind": m["owner_kind"], "owner_name": m["owner_name"],
        "created_at": m["created_at"], "deletion_requested_at": m["deletion_requested_at"],
        "health": m["health"] if m["health"] in HEALTHS else Health.HEALTHY.value, "attention": m["attention"] or 0,
        "top": top,
        "log_counts": {"error": m["error_count"] or 0, "warning": m["warning_count"] or 0,
                       "exception": m["exception_count"] or 0},
        "last_seen_at": m["last_seen_at"], "deleted_at": m["deleted_at"], "gone": m["deleted_at"] is not None,
    }


def _joined() -> Any:
    return POD.join(CLUSTER, CLUSTER.c.id == POD.c.cluster_id)


def _ids(conn: Any, source: Any, where: list[ColumnElement[bool]], limit: int, offset: int) -> list[int]:
    # attention DESC, id DESC is the order of ix_pod_attention (its entries carry the row id): the
    # database walks the index instead of sorting every matching pod, and only ids are carried.
    query = (select(POD.c.id).select_from(source).where(*where)
             .order_by(POD.c.attention.desc(), POD.c.id.desc()).limit(limit).offset(offset))
    return [row[0] for row in conn.execute(query)]


def list_pods(engine: Engine, f: PodFilter, *, limit: int, offset: int) -> dict[str, Any]:
    """One page of pods, live before gone, most attention first (then newest row); ``total`` counts
    every match."""
    where = _conditions(f)
    source = _joined() if f.clusters else POD
    live_only, gone_only = POD.c.deleted_at.is_(None), POD.c.deleted_at.is_not(None)
    with engine.connect() as conn:
        total, gone = conn.execute(select(func.count(), func.count(POD.c.deleted_at))
                                   .select_from(source).where(*where)).one()
        total, gone = int(total), int(gone or 0)
        live = total - gone
        ids: list[int] = []
        if offset < live:
            ids = _ids(conn, source, [*where, live_only], limit, offset)
        if len(ids) < limit and gone and offset + len(ids) >= live:
            ids += _ids(conn, source, [*where, gone_only], limit - len(ids), max(0, offset - live))
        rows = conn.execute(select(*_LIST_COLUMNS).select_from(_joined()).where(POD.c.id.in_(ids))).all() if ids else []
    by_id = {row._mapping["id"]: row for row in rows}
    items = [_pod_item(by_id[i]) for i in ids if i in by_id]
    return {"total": total, "limit": limit, "offset": offset, "items": items}


def pod_detail(engine: Engine, pod_id: int) -> dict[str, Any] | None:
    """One pod with its containers (init first), Events (latest first) and what could not be read."""
    with engine.connect() as conn:
        row = conn.execute(select(*_LIST_COLUMNS, POD.c.uid, POD.c.labels, POD.c.problems, POD.c.first_seen_at,
                                  POD.c.ready_count, POD.c.container_count)
                           .select_from(_joined()).where(POD.c.id == pod_id)).first()
        if row is None:
            return None
        containers = conn.execute(select(CONTAINER).where(CONTAINER.c.pod_id == pod_id)
                                  .order_by(CONTAINER.c.init.desc(), CONTAINER.c.id)).all()
        events = conn.execute(select(EVENT).where(EVENT.c.pod_id == pod_id)
                              .order_by(EVENT.c.last_at.desc(), EVENT.c.id.desc()).limit(200)).all()
    item = _pod_item(row)
    m = row._mapping
    item.update(uid=m["uid"], labels=m["labels"] or {}, first_seen_at=m["first_seen_at"],
                ready_count=m["ready_count"], container_count=m["container_count"],
                problems=[{"container": p.get("container"), "message": str(p.get("message", ""))}
                          for p in (m["problems"] or []) if isinstance(p, dict)])
    item["containers"] = [
        {k: c._mapping[k] for k in ("name", "init", "image", "ready", "state", "reason", "message", "exit_code",
                                    "started_at", "restart_count", "last_reason", "last_message",
                                    "last_exit_code", "last_finished_at", "log_error")}
        | {"log_counts": {"error": c.error_count or 0, "warning": c.warning_count or 0,
                          "exception": c.exception_count or 0}}
        for c in containers
    ]
    item["events"] = [{k: e._mapping[k] for k in ("type", "reason", "message", "count", "first_at", "last_at",
                                                   "source")} for e in events]
    return item


def pod_logs(engine: Engine, pod_id: int, *, levels: Sequence[str] = (), containers: Sequence[str] = (),
             previous: bool | None = None, text: str | None = None, limit: int, offset: int) -> dict[str, Any]:
    """A pod's log entries, newest first; ``counts`` per level under the container/previous filters."""
    scope: list[ColumnElement[bool]] = [LOG.c.pod_id == pod_id]
    if containers:
        scope.append(LOG.c.container.in_(list(containers)))
    if previous is not None:
        scope.append(LOG.c.previous.is_(previous))
    where = list(scope)
    if levels:
        where.append(LOG.c.level.in_(list(levels)))
    if text:
        where.append(func.lower(LOG.c.text).like(_like(text), escape="\\"))
    with engine.connect() as conn:
        counts = dict.fromkeys(LEVELS, 0)
        for level, n in conn.execute(select(LOG.c.level, func.count()).where(*scope).group_by(LOG.c.level)):
            if level in counts:
                counts[level] = int(n)
        total = conn.execute(select(func.count()).select_from(LOG).where(*where)).scalar_one()
        rows = conn.execute(select(LOG.c.id, LOG.c.container, LOG.c.previous, LOG.c.ts, LOG.c.seq, LOG.c.level,
                                   LOG.c.text).where(*where)
                            .order_by(LOG.c.previous.asc(), LOG.c.seq.desc(), LOG.c.id.desc())
                            .limit(limit).offset(offset)).all()
    return {"pod_id": pod_id, "total": int(total), "limit": limit, "offset": offset, "counts": counts,
            "items": [dict(r._mapping) for r in rows]}


def pod_exists(engine: Engine, pod_id: int) -> bool:
    with engine.connect() as conn:
        return conn.execute(select(POD.c.id).where(POD.c.id == pod_id)).first() is not None


def summary(engine: Engine, f: PodFilter) -> dict[str, Any]:
    """Live pods per health, overall, per cluster and per cluster/namespace; gone pods counted apart."""
    live = PodFilter(f.clusters, f.namespaces, f.healths, f.text, f.owner, gone="exclude")
    gone = PodFilter(f.clusters, f.namespaces, f.healths, f.text, f.owner, gone="only")
    with engine.connect() as conn:
        rows = conn.execute(select(CLUSTER.c.name, POD.c.namespace, POD.c.health, func.count())
                            .select_from(_joined()).where(*_conditions(live))
                            .group_by(CLUSTER.c.name, POD.c.namespace, POD.c.health)).all()
        gone_count = conn.execute(select(func.count()).select_from(_joined()).where(*_conditions(gone))).scalar_one()
    overall = dict.fromkeys(HEALTHS, 0)
    clusters: dict[str, dict[str, int]] = {}
    namespaces: dict[tuple[str, str], dict[str, int]] = {}
    for cluster, namespace, health, n in rows:
        health = health if health in HEALTHS else Health.HEALTHY.value
        for bucket in (overall, clusters.setdefault(cluster, dict.fromkeys(HEALTHS, 0)),
                       namespaces.setdefault((cluster, namespace), dict.fromkeys(HEALTHS, 0))):
            bucket[health] += int(n)
    return {
        "total": sum(overall.values()), "health": overall, "gone": int(gone_count),
        "clusters": [{"cluster": c, "total": sum(h.values()), "health": h} for c, h in sorted(clusters.items())],
        "namespaces": [{"cluster": c, "namespace": ns, "total": sum(h.values()), "health": h}
                       for (c, ns), h in sorted(namespaces.items())],
    }


def data_version(engine: Engine) -> tuple[Any, ...]:
    """What changes whenever the collector writes (it stamps ``last_seen_at`` on every run) or rows
    come and go: the micro-cache keeps an answer while this stays the same."""
    with engine.connect() as conn:
        pods = conn.execute(select(func.count(), func.max(POD.c.id), func.max(POD.c.last_seen_at),
                                   func.count(POD.c.deleted_at))).one()
        logs = conn.execute(select(func.max(LOG.c.id))).scalar()
        events = conn.execute(select(func.max(EVENT.c.id), func.max(EVENT.c.last_at))).one()
    return (*pods, logs, *events)


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None
