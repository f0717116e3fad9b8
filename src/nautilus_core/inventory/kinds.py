"""The built-in inventory kinds (namespaces, nodes, services) and the merge of enrichers' rows.

An enricher declares the columns it fills per kind (``contributes``); :func:`merge_rows` builds
each kind's rows for one cluster from every contributor, row by row on the kind's key, so a
second enricher adds columns or rows without erasing the first's. A kind is written only when
every one of its contributors succeeded and returned it (a failed fetch never tombstones rows).
Registered by ``inventory.builtin``; :func:`merge_rows` is called by the inventory pipeline.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict
from datetime import datetime
from typing import Any

from nautilus_core.db import metadata
from nautilus_core.types import Facts, Kind, NamespaceFacts, NodeFacts, ServiceFacts

TABLES = metadata.tables


def _parse_ts(value: str | None) -> datetime | None:
    if not value or not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def namespace_row(n: NamespaceFacts) -> dict[str, Any]:
    return {"name": n.name, "phase": n.phase, "labels": dict(n.labels), "pod_counts": dict(n.pod_counts),
            "created_at": _parse_ts(n.created_at)}


def node_row(n: NodeFacts) -> dict[str, Any]:
    return {k: (dict(v) if isinstance(v, Mapping) else v) for k, v in asdict(n).items()}


def service_row(s: ServiceFacts) -> dict[str, Any]:
    return {"namespace": s.namespace, "name": s.name, "type": s.type, "cluster_ip": s.cluster_ip,
            "ports": [dict(p) for p in s.ports], "external_address": s.external_address,
            "labels": dict(s.labels)}


def _typed_or_mapping(typed: Callable[[Any], dict[str, Any]]) -> Callable[[Any], Mapping[str, Any]]:
    """A built-in kind's mapper: its facts dataclass, or a mapping of columns as it is."""
    def row(item: Any) -> Mapping[str, Any]:
        return item if isinstance(item, Mapping) else typed(item)
    return row


NAMESPACES = Kind("namespaces", TABLES["namespace"], ("name",), row=_typed_or_mapping(namespace_row))
NODES = Kind("nodes", TABLES["node"], ("name",), row=_typed_or_mapping(node_row))
SERVICES = Kind("services", TABLES["service"], ("namespace", "name"), row=_typed_or_mapping(service_row))
BUILTIN_KINDS: dict[str, Kind] = {k.name: k for k in (NAMESPACES, NODES, SERVICES)}

Contributions = Mapping[str, Mapping[str, tuple[str, ...]]]


def merge_rows(kinds: Mapping[str, Kind], contributions: Contributions,
               results: Mapping[str, Facts | BaseException]) -> tuple[dict[str, list[dict[str, Any]]],
                                                                      list[dict[str, Any]]]:
    """Each kind's rows for one cluster, and problems found on the way.

    :param contributions: per enricher name, the columns it fills by kind.
    :param results: per enricher name, its ``Facts`` or the exception it raised.
    :returns: rows by kind name (only the kinds every contributor fetched), and problems
        (``{"enricher", "error"}`` for an enricher returning what it does not declare,
        ``{"label", "count"}`` for items a kind's row mapper could not read).
    """
    problems: list[dict[str, Any]] = []
    for name, result in results.items():
        if isinstance(result, BaseException):
            continue
        declared = contributions.get(name, {})
        stray = sorted(k for k in (*result.rows, *(k for k in ("namespaces", "services", "nodes")
                                                   if getattr(result, k) is not None)) if k not in declared)
        if stray:
            problems.append({"enricher": name, "error": f"returned rows of {', '.join(stray)} without "
                             "declaring them in contributes; they were left out"})
    out: dict[str, list[dict[str, Any]]] = {}
    unreadable: dict[str, int] = {}
    for kind_name, kind in kinds.items():
        names = [n for n in contributions if kind_name in contributions[n] and n in results]
        fetched = [r for r in (results[n] for n in names) if not isinstance(r, BaseException)]
        if not names or len(fetched) < len(names) or any(r.rows_of(kind_name) is None for r in fetched):
            continue  # a contributor failed or did not fetch this kind: leave it as it was
        if len(names) == 1:  # the common case: one enricher fills the kind, no merge needed
            out[kind_name] = _rows(kind, contributions[names[0]][kind_name], fetched[0], problems, unreadable)
            continue
        columns = list(dict.fromkeys(c for n in names for c in contributions[n][kind_name]))
        merged: dict[Any, dict[str, Any]] = {}
        for name, result in zip(names, fetched, strict=True):
            seen: set[Any] = set()
            for row in _rows(kind, contributions[name][kind_name], result, problems, unreadable):
                key: Any = tuple(row[c] for c in kind.key)
                try:
                    hash(key)
                except TypeError:
                    key = (object(),)  # an unusable key stays a row of its own; the synchronizer rejects it
                if key in seen:  # the enricher answered a duplicate: keep its first
                    continue
                seen.add(key)
                target = merged.get(key)
                if target is None:
                    target = merged[key] = dict.fromkeys((*kind.key, *columns))
                target.update(row)
        out[kind_name] = list(merged.values())
    problems += [{"label": label, "count": count} for label, count in sorted(unreadable.items())]
    return out, problems


def _rows(kind: Kind, columns: tuple[str, ...], result: Facts, problems: list[dict[str, Any]],
          unreadable: dict[str, int]) -> list[dict[str, Any]]:
    """The key and the declared ``columns`` of each item ``result`` holds for ``kind``."""
    keep = (*kind.key, *columns)
    rows = []
    for item in result.rows_of(kind.name) or ():
        try:
            values = kind.row(item) if kind.row is not None else item
            rows.append({c: values.get(c) for c in keep})
        except Exception:  # a mapper or an item that cannot be read loses only that item
            label = f"{kind.name}:unreadable-row"
            unreadable[label] = unreadable.get(label, 0) + 1
    return rows
