"""Incomplete discovery never deletes: a kubeconfig file that is missing or malformed fails the
provider (naming the file) while the clusters of the other files are synced and nobody's rows are
tombstoned. Driven through the ``nautilus`` CLI in a subprocess, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os

import pytest
from inv_helpers import cli, cli_env

from nautilus_core.testing import FleetSpec, populate

TINY = FleetSpec(namespaces=2, pods_per_namespace=3, nodes=2, services=2, logs=False, events=False)


@pytest.fixture
def two_files(kube_fleet, tmp_path):
    """KUBECONFIG=a:b with clusters east, west in a and north in b."""
    first, second = kube_fleet(["east", "west"]), kube_fleet(["north"])
    for fleet in (first, second):
        for name in fleet.names:
            populate(fleet[name], TINY)
    a = first.write_kubeconfig(tmp_path / "a.yaml")
    b = second.write_kubeconfig(tmp_path / "b.yaml")
    return a, b


def _clusters(env):
    listed = cli("inventory", "clusters", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    return {c["name"]: c for c in json.loads(listed.stdout)["clusters"]}


def test_a_missing_kubeconfig_file_fails_the_provider_and_every_cluster_stays(engine, db_url, two_files):
    a, b = two_files
    env = cli_env(db_url, os.pathsep.join([str(a), str(b)]))
    first = cli("inventory", "sync", env=env)
    assert first.returncode == 0, first.stderr
    before = _clusters(env)
    assert set(before) == {"east", "west", "north"}

    b.unlink()
    second = cli("inventory", "sync", env=env)
    assert second.returncode == 1, second.stdout + second.stderr
    assert str(b) in second.stderr
    after = _clusters(env)
    assert set(after) == {"east", "west", "north"}                  # nothing tombstoned
    assert after["north"]["last_seen_at"] == before["north"]["last_seen_at"]
    assert after["east"]["last_seen_at"] > before["east"]["last_seen_at"]   # a's clusters were synced

    runs = json.loads(cli("inventory", "runs", "--json", "--limit", "1", env=env).stdout)["runs"]
    [provider] = [o for o in runs[0]["outcomes"] if o["cluster_key"] is None]
    assert provider["status"] == "failed" and str(b) in provider["error"]
    assert runs[0]["status"] == "partial"


MALFORMED = {
    "not-yaml": ("clusters: [[[ {", "not valid YAML"),
    "a-list": ("- one\n- two\n", "expected a mapping"),
    "clusters-int": ("apiVersion: v1\nclusters: 5\ncontexts: []\n", "clusters: expected a list, got int"),
    "context-str": ("apiVersion: v1\ncontexts:\n- name: x\n  context: oops\n",
                    "contexts[0].context: expected a mapping"),
    "server-int": ("apiVersion: v1\nclusters:\n- name: c\n  cluster: {server: 5}\n",
                   "clusters[0].cluster.server: expected a string, got int"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_malformed_kubeconfig_file_fails_the_provider_naming_file_and_problem(engine, db_url, two_files, case):
    a, b = two_files
    env = cli_env(db_url, os.pathsep.join([str(a), str(b)]))
    assert cli("inventory", "sync", env=env).returncode == 0
    content, problem = MALFORMED[case]
    b.write_text(content)
    result = cli("inventory", "sync", env=env)
    assert result.returncode == 1, result.stderr
    assert str(b) in result.stderr and problem in result.stderr
    assert "unexpected error" not in result.stderr
    assert set(_clusters(env)) == {"east", "west", "north"}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_controller_run_with_a_malformed_kubeconfig_exits_2_naming_file_and_problem(tmp_path, case):
    content, problem = MALFORMED[case]
    config = tmp_path / "kubeconfig"
    config.write_text(content)
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'n.db'}", "KUBECONFIG": str(config), "LOG_FORMAT": "json",
           "NAUTILUS_HOME": str(tmp_path)}
    result = cli("controller", "run", "--metrics-port", "0", "--health-check-port", "0", env=env, timeout=60)
    assert result.returncode == 2, result.stderr
    assert str(config) in result.stderr and problem in result.stderr
    assert "unexpected error" not in result.stderr
