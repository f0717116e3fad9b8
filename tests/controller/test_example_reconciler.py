"""The docs' example reconciler runs beside the statefulsets reconciler and shares its informers."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from conftest import FAST, until

from nautilus_core.api import Nautilus
from nautilus_core.config import load_settings
from nautilus_core.plugins import build_plugin_manager

EXAMPLE = Path(__file__).parents[2] / "docs" / "examples" / "checksum_reconciler.py"


@pytest.fixture
def with_example(db_url, engine):
    spec = importlib.util.spec_from_file_location("checksum_reconciler", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    plugins = build_plugin_manager(entry_points=False)
    plugins.add("checksum", module, distribution="docs-example", version="0", builtin=False)
    app = Nautilus(load_settings(database_url=db_url, **FAST), plugins=plugins)
    yield app
    app.close()


def watch_paths(emu):
    return sorted(r.path for r in emu.requests.filter(method="GET") if r.query.get("watch") == "true")


def test_the_example_annotates_configmaps_and_shares_the_namespace_informer(with_example, kube, kube_emulator):
    for ns, labels in (("team-payments", {}), ("quiet", {"example.com/skip": "true"})):
        kube_emulator.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": labels}})
        kube_emulator.create({"apiVersion": "v1", "kind": "ConfigMap",
                              "metadata": {"name": "settings", "namespace": ns}, "data": {"mode": "fast"}})
    runtime = with_example.controller(["statefulsets", "configmap-checksum"], kube=kube, leader_election=False,
                                      identity="example", watch_silence_timeout=5.0)
    runtime.start()
    try:
        annotated = until(lambda: (kube_emulator.get("v1", "configmaps", "settings", "team-payments")["metadata"]
                                   .get("annotations") or {}).get("example.com/checksum"), what="annotated")
        kube_emulator.patch("v1", "configmaps", "settings", {"data": {"mode": "slow"}}, namespace="team-payments")
        until(lambda: kube_emulator.get("v1", "configmaps", "settings", "team-payments")["metadata"]["annotations"]
              ["example.com/checksum"] != annotated, what="checksum follows the data")
        assert "annotations" not in kube_emulator.get("v1", "configmaps", "settings", "quiet")["metadata"]
        paths = watch_paths(kube_emulator)
        assert paths.count("/api/v1/namespaces") == 1      # both reconcilers declare it: one watch
        assert paths.count("/api/v1/configmaps") == 1
        object_gets = [r.path for r in kube_emulator.requests.filter(method="GET", path="/configmaps/")]
        assert object_gets == []                             # reads answered by the informers
    finally:
        runtime.stop()


def test_watch_all_namespaces_opens_one_cluster_wide_informer_per_resource(app, controller, rows, kube_emulator):
    app.settings = app.settings.model_copy(update={"watch_all_namespaces": True})
    controller()
    rows.add("payments", "one", engine="redis")
    rows.add("search", "two", engine="redis")
    for team, name in (("payments", "one"), ("search", "two")):
        until(lambda team=team, name=name: kube_emulator.get("apps/v1", "statefulsets", name, f"team-{team}"),
              what="created")
    paths = watch_paths(kube_emulator)
    assert paths.count("/apis/apps/v1/statefulsets") == 1 and paths.count("/api/v1/services") == 1
    assert paths.count("/api/v1/pods") == 1
    assert not [p for p in paths if "/namespaces/team-" in p]
