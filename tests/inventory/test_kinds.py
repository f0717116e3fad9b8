"""Enrichers contributing to the same kind: a second enricher adds columns without erasing the first's,
two enrichers claiming one column is an error naming both plugins, and a failed contributor leaves
its kind exactly as it was. Against the emulated fleet, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table

from nautilus_core import Facts, Kind, NamespaceFacts, PluginError, hookimpl
from nautilus_core.db import kind_table
from nautilus_core.inventory.enrichers import NamespaceEnricher, NodeEnricher, ServiceEnricher, VersionEnricher
from nautilus_core.inventory.pipeline import InventorySync
from nautilus_core.plugins import build_plugin_manager


class PhaseAndPods(NamespaceEnricher):
    """The built-in namespace enricher, leaving the labels column to another enricher."""

    contributes = {"namespaces": ("phase", "pod_counts", "created_at")}


class NamespaceLabels:
    """Reads only the namespaces' labels (and marks them, so the test can tell whose they are)."""

    name = "namespace-labels"
    contributes = {"namespaces": ("labels",)}

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail

    def enrich(self, cluster, kube):
        if self.fail:
            raise RuntimeError("labels unavailable")
        return Facts(namespaces=tuple(
            NamespaceFacts(name=ns["metadata"]["name"], labels={"seen-by": "namespace-labels"})
            for ns in kube.list("v1", "namespaces")))


def enrichers(*extra):
    found = [VersionEnricher(), PhaseAndPods(), ServiceEnricher(), NodeEnricher(), *extra]
    return {e.name: e for e in found}


def test_a_second_enricher_adds_namespace_labels_without_erasing_phase_and_pod_counts(app, fleet):
    report = InventorySync(app.engine, fleet.providers(), enrichers(NamespaceLabels())).run()
    assert report.status == "succeeded", report.summary()
    for name, summary in fleet.summaries.items():
        namespaces = {n["name"]: n for n in app.inventory("namespaces", clusters=[name])}
        phases = {n["metadata"]["name"]: n["status"]["phase"] for n in fleet[name].list("v1", "namespaces")}
        for ns in summary.namespaces:
            expected = Counter(summary.expected_status(n, p) for n, p in summary.pods if n == ns)
            assert namespaces[ns]["pod_counts"] == dict(expected), ns
            assert namespaces[ns]["phase"] == phases[ns]
            assert namespaces[ns]["labels"] == {"seen-by": "namespace-labels"}
        cluster = next(c for c in app.inventory("clusters") if c["name"] == name)
        assert cluster["pod_counts"] == dict(Counter(summary.expected_status(n, p) for n, p in summary.pods))


def test_a_failed_contributor_leaves_its_kind_as_it_was(app, fleet):
    InventorySync(app.engine, fleet.providers(), enrichers(NamespaceLabels())).run()
    before = {(n["cluster"], n["name"]): n for n in app.inventory("namespaces")}
    fleet["east"].delete("v1", "namespaces", sorted(fleet.summaries["east"].namespaces)[0])
    report = InventorySync(app.engine, fleet.providers(), enrichers(NamespaceLabels(fail=True))).run()
    assert report.status == "partial"
    assert all("labels unavailable" in (o.error or "") for o in report.outcomes if o.cluster)
    after = {(n["cluster"], n["name"]): n for n in app.inventory("namespaces")}
    assert after.keys() == before.keys()  # nothing tombstoned: one of the kind's fetches failed
    assert all(after[k]["labels"] == before[k]["labels"] and after[k]["pod_counts"] == before[k]["pod_counts"]
               for k in before)
    assert app.inventory("nodes") and app.inventory("services")  # the other kinds were written


class LabelsPlugin:
    @hookimpl
    def nautilus_register_enrichers(self, register):
        register(NamespaceLabels())


def test_two_enrichers_claiming_one_column_is_an_error_naming_both_plugins():
    manager = build_plugin_manager(entry_points=False)
    manager.add("labels", LabelsPlugin(), distribution="tests", version="0", builtin=False)
    with pytest.raises(PluginError) as err:
        manager.enrichers()
    message = str(err.value)
    assert "namespaces.labels" in message
    assert "'namespaces' of plugin inventory" in message and "'namespace-labels' of plugin labels" in message
    assert err.value.plugin == "labels"


@pytest.mark.parametrize(("contributes", "problem"), [
    ({"ingresses": ("host",)}, "unknown kind 'ingresses'"),
    ({"namespaces": ("owner",)}, "column 'owner' that kind 'namespaces' does not have"),
    ({"namespaces": ("name",)}, "column 'name' that kind 'namespaces' does not have"),
])
def test_an_enricher_contributing_what_does_not_exist_is_rejected(contributes, problem):
    class Stray:
        name = "stray"

        def enrich(self, cluster, kube):
            return Facts()

    Stray.contributes = contributes

    class Plugin:
        @hookimpl
        def nautilus_register_enrichers(self, register):
            register(Stray())

    manager = build_plugin_manager(entry_points=False)
    manager.add("stray", Plugin(), distribution="tests", version="0", builtin=False)
    with pytest.raises(PluginError, match=problem) as err:
        manager.enrichers()
    assert "'stray' of plugin stray" in str(err.value)


def test_kinds_with_a_bad_table_or_a_taken_table_are_rejected_naming_the_plugins():
    good = kind_table("acme_thing", ("name",), Column("colour", String))
    bare = Table("acme_bare", MetaData(), Column("id", Integer, primary_key=True),  # no bookkeeping columns
                 Column("cluster_id", Integer), Column("name", String), Column("first_seen_at", String),
                 Column("last_seen_at", String), Column("deleted_at", String))

    def plugin(kind):
        class Plugin:
            @hookimpl
            def nautilus_register_kinds(self, register):
                register(kind)
        return Plugin()

    from nautilus_core.inventory.kinds import NAMESPACES

    cases = [
        (Kind("things", bare, ("name",)), r"plugin acme registered kind 'things': .*lacks column\(s\) data_hash"),
        (Kind("things", good, ()), "key: expected a non-empty tuple"),
        (Kind("spaces", NAMESPACES.table, ("name",)), "table 'namespace' is used by kind 'namespaces' of "
                                                       "inventory and by kind 'spaces' of acme"),
        (Kind("namespaces", good, ("name",)), "'namespaces' registered by both inventory and acme"),
    ]
    for kind, problem in cases:
        manager = build_plugin_manager(entry_points=False)
        manager.add("acme", plugin(kind), distribution="tests", version="0", builtin=False)
        with pytest.raises(PluginError, match=problem):
            manager.kinds()


def test_rows_of_a_kind_an_enricher_does_not_declare_are_left_out_and_named():
    from nautilus_core.inventory.kinds import BUILTIN_KINDS, merge_rows

    results = {"namespaces": Facts(namespaces=(NamespaceFacts("a", phase="Active"),)),
               "legacy": Facts(namespaces=(NamespaceFacts("a", phase="Terminating"),), rows={"pods": [{"name": "p"}]})}
    merged, problems = merge_rows(BUILTIN_KINDS, {"namespaces": NamespaceEnricher.contributes}, results)
    assert [r["phase"] for r in merged["namespaces"]] == ["Active"]
    assert problems == [{"enricher": "legacy", "error": "returned rows of namespaces, pods without declaring "
                                                        "them in contributes; they were left out"}]
