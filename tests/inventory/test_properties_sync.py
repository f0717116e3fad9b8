"""Property-based: the inventory pipeline and synchronizer fed random sequences of fetch results with
random failures (discovery complete, partial or failed; connect failing; each enricher failing or
returning any subset) never tombstone a row whose scope failed, and make the rows of every scope
that succeeded match what was fetched. On SQLite and PostgreSQL (the real pipeline and database;
the provider and enrichers are scripted plugin objects)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from inv_helpers import property_settings
from sqlalchemy import select

from nautilus_core.db import metadata
from nautilus_core.errors import PartialDiscovery
from nautilus_core.inventory.kinds import BUILTIN_KINDS
from nautilus_core.inventory.pipeline import InventorySync
from nautilus_core.types import ClusterRef, Facts, NamespaceFacts, NodeFacts, ServiceFacts

CLUSTERS = ("a", "b", "c")
ITEMS: dict[str, tuple[Any, ...]] = {
    "namespaces": ("n1", "n2", "n3"),
    "nodes": ("w1", "w2", "w3"),
    "services": (("n1", "s1"), ("n1", "s2"), ("n2", "s1")),
}
TABLE = {"namespaces": "namespace", "nodes": "node", "services": "service"}

cluster_step = st.fixed_dictionaries({
    "connect_fails": st.integers(0, 5).map(lambda n: n == 0),
    "kinds": st.fixed_dictionaries({kind: st.one_of(st.none(), st.frozensets(st.sampled_from(items)))
                                    for kind, items in ITEMS.items()}),
    "version": st.sampled_from(["v1.29.0", "v1.30.1"]),
})
step = st.fixed_dictionaries({
    "discovery": st.sampled_from(["complete", "complete", "partial", "failed"]),
    "found": st.frozensets(st.sampled_from(CLUSTERS)),
    "clusters": st.fixed_dictionaries({c: cluster_step for c in CLUSTERS}),
})


class Script:
    """The step being played: what discovery, connect and each enricher answer."""

    current: dict[str, Any]


class ScriptedProvider:
    def __init__(self, name: str, script: Script) -> None:
        self.name, self.script = name, script

    def discover(self) -> Iterable[ClusterRef]:
        s = self.script.current
        found = [ClusterRef(provider=self.name, name=c) for c in sorted(s["found"])]
        if s["discovery"] == "failed":
            raise RuntimeError("listing failed")
        if s["discovery"] == "partial":
            raise PartialDiscovery(found, ["region eu-west-9: timed out"])
        return found

    def connect(self, cluster: ClusterRef) -> Any:
        if self.script.current["clusters"][cluster.name]["connect_fails"]:
            raise ConnectionError("refused")
        return Closable()


class Closable:
    def close(self) -> None:
        pass


class ScriptedEnricher:
    def __init__(self, kind: str, script: Script) -> None:
        self.name, self.kind, self.script = kind, kind, script
        self.contributes = {kind: BUILTIN_KINDS[kind].columns}  # every column of its kind

    def enrich(self, cluster: ClusterRef, kube: Any) -> Facts:
        got = self.script.current["clusters"][cluster.name]["kinds"][self.kind]
        if got is None:
            raise RuntimeError(f"{self.kind} fetch failed")
        if self.kind == "namespaces":
            return Facts(namespaces=tuple(NamespaceFacts(name=n, pod_counts={"Running": 1}) for n in sorted(got)))
        if self.kind == "nodes":
            return Facts(nodes=tuple(NodeFacts(name=n, ready=True) for n in sorted(got)))
        return Facts(services=tuple(ServiceFacts(namespace=ns, name=n) for ns, n in sorted(got)))


def snapshot(engine: Any, provider: str) -> dict[str, Any]:
    """Per cluster name: alive or not, and per kind the set of live child keys."""
    cluster = metadata.tables["cluster"]
    out: dict[str, Any] = {}
    with engine.connect() as conn:
        for cid, name, deleted in conn.execute(select(cluster.c.id, cluster.c.name, cluster.c.deleted_at)
                                               .where(cluster.c.provider == provider)):
            children = {}
            for kind, table_name in TABLE.items():
                table = metadata.tables[table_name]
                cols = [table.c.namespace, table.c.name] if kind == "services" else [table.c.name]
                rows = conn.execute(select(*cols).where(table.c.cluster_id == cid, table.c.deleted_at.is_(None)))
                children[kind] = {tuple(r) if kind == "services" else r[0] for r in rows}
            out[name] = {"alive": deleted is None, "children": children}
    return out


def check_step(before: dict[str, Any], after: dict[str, Any], s: dict[str, Any]) -> None:
    complete = s["discovery"] == "complete"
    synced = s["found"] if s["discovery"] != "failed" else frozenset()
    for name in CLUSTERS:
        old, new = before.get(name), after.get(name)
        plan = s["clusters"][name]
        fetched = {k: v for k, v in plan["kinds"].items() if v is not None}
        written = name in synced and not plan["connect_fails"] and fetched
        if not written:
            if old is None:
                assert new is None or not complete, (name, "appeared without being written")
                continue
            # nothing fetched for it: its children are exactly as they were
            assert new["children"] == old["children"], (name, s)
            if old["alive"]:
                assert new["alive"] == (not complete or name in s["found"]), (name, "tombstoned", s)
            continue
        assert new is not None and new["alive"], (name, "written but not live", s)
        for kind in ITEMS:
            if kind in fetched:
                assert new["children"][kind] == set(fetched[kind]), (name, kind, s)
            else:                                            # that enricher failed: its kind untouched
                assert new["children"][kind] == (old["children"][kind] if old else set()), (name, kind, s)


@property_settings()
@given(steps=st.lists(step, min_size=1, max_size=4))
def test_random_fetch_failures_never_tombstone_a_failed_scope(engine, steps):
    provider = f"p-{uuid.uuid4().hex[:10]}"               # each example its own provider: no cleanup needed
    script = Script()
    enrichers = {kind: ScriptedEnricher(kind, script) for kind in ITEMS}
    sync = InventorySync(engine, {provider: ScriptedProvider(provider, script)}, enrichers,
                         retention=timedelta(0), heartbeat=3600)
    for s in steps:
        script.current = s
        before = snapshot(engine, provider)
        report = sync.run()
        after = snapshot(engine, provider)
        check_step(before, after, s)
        failed_scope = s["discovery"] != "failed" and any(
            s["clusters"][c]["connect_fails"] or None in s["clusters"][c]["kinds"].values() for c in s["found"])
        assert (report.status == "succeeded") == (s["discovery"] == "complete" and not failed_scope), report.summary()
