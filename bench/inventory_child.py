"""One measured step of ``bench.inventory``, run in its own process: prints one JSON line
``{"wall": seconds, "peak_rss_mb": MB, ...}``.

Modes: ``fetch KUBECONFIG`` (page through every cluster's pods/nodes/services/namespaces and parse),
``fetch-insert KUBECONFIG URL`` (the same, then one bulk insert of the resulting rows),
``sync KUBECONFIG URL`` (a real ``Nautilus.sync_inventory``).
"""

from __future__ import annotations

import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any


def peak_rss_mb() -> float:
    """VmHWM of this process. (ru_maxrss would include the parent's pages from before exec.)"""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def fetch(kubeconfig: str) -> list[dict[str, Any]]:
    """The floor: the same requests the enrichers make, parsed, reduced to flat rows."""
    from nautilus_core.kube import connect, list_contexts

    def one(context: str) -> dict[str, Any]:
        with connect(kubeconfig=kubeconfig, context=context) as kube:
            kube.version()
            pods = 0
            for page in kube.list_pages("v1", "pods"):
                pods += len(page.items)
            out = {"context": context, "pods": pods}
            for plural in ("namespaces", "nodes", "services"):
                out[plural] = [{"name": o["metadata"]["name"], "namespace": o["metadata"].get("namespace", ""),
                                "labels": o["metadata"].get("labels") or {}, "status": o.get("status")}
                               for o in kube.list("v1", plural)]
            return out

    contexts = [c.name for c in list_contexts(kubeconfig)]
    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(one, contexts))


def insert(url: str, clusters: list[dict[str, Any]]) -> int:
    from nautilus_core.db import make_engine, metadata, upgrade, upsert, utcnow

    engine = make_engine(url)
    upgrade(engine)
    now = utcnow()
    tables = metadata.tables
    written = 0
    with engine.begin() as conn:
        for c in clusters:
            cid = conn.execute(tables["cluster"].insert().values(
                key=f"floor/{c['context']}", provider="floor", name=c["context"], data_hash="x",
                first_seen_at=now, last_seen_at=now).returning(tables["cluster"].c.id)).scalar_one()
            for plural, table, key in (("namespaces", "namespace", ("cluster_id", "name")),
                                       ("nodes", "node", ("cluster_id", "name")),
                                       ("services", "service", ("cluster_id", "namespace", "name"))):
                rows = [{"cluster_id": cid, "name": r["name"], "labels": r["labels"], "data_hash": "x",
                         "first_seen_at": now, "last_seen_at": now}
                        | ({"namespace": r["namespace"]} if table == "service" else {}) for r in c[plural]]
                written += upsert(conn, tables[table], rows, key=key).affected
    engine.dispose()
    return written


def sync(kubeconfig: str, url: str) -> dict[str, Any]:
    from nautilus_core.api import Nautilus
    from nautilus_core.config import load_settings
    from nautilus_core.inventory.providers import KubeconfigProvider
    from nautilus_core.plugins import build_plugin_manager

    app = Nautilus(load_settings(database_url=url), plugins=build_plugin_manager(entry_points=False))
    app.upgrade_database()
    provider = KubeconfigProvider(kubeconfig=kubeconfig)
    started = time.monotonic()
    report = app.sync_inventory(providers={"kubeconfig": provider})
    wall = time.monotonic() - started
    app.close()
    if report.failures:
        raise SystemExit(report.summary())
    written = {}
    for o in report.outcomes:
        for table, counts in o.counts.items():
            if isinstance(counts, dict) and "inserted" in counts:
                written[table] = written.get(table, 0) + counts["inserted"] + counts["updated"]
    return {"wall": wall, "written": written}


def main() -> None:
    mode, kubeconfig, *rest = sys.argv[1:]
    import nautilus_core.db
    import nautilus_core.kube  # noqa: F401 - imports are not part of any figure

    if mode == "sync":
        result = sync(kubeconfig, rest[0])
    else:
        started = time.monotonic()
        clusters = fetch(kubeconfig)
        result = {"pods": sum(c["pods"] for c in clusters)}
        if mode == "fetch-insert":
            result["written"] = insert(rest[0], clusters)
        result["wall"] = time.monotonic() - started
    result["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
