"""The ``nautilus`` command line end to end (in-process through ``main``), on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest

from nautilus_core.cli import main
from nautilus_core.db import check_schema, current_revision, head_revision, make_engine
from nautilus_core.testing import FleetSpec, populate


@pytest.fixture(autouse=True)
def _env(monkeypatch, tmp_path):
    monkeypatch.setenv("NAUTILUS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("NAUTILUS_KUBE_RETRIES", "1")
    monkeypatch.setenv("NAUTILUS_KUBE_TIMEOUT", "3")
    monkeypatch.setenv("LOG_FORMAT", "json")
    monkeypatch.delenv("DATABASE_URL", raising=False)


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_version_and_help(capsys):
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.startswith("nautilus ")
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "inventory" in out and "plugins" in out and "demo" in out


def test_usage_error_exits_2(capsys):
    code, _, err = run(capsys, "inventory", "sync", "--every", "soon")
    assert code == 2 and "soon" in err


def test_config_error_exits_2_naming_the_variable(capsys, monkeypatch):
    monkeypatch.setenv("LOG_FORMAT", "xml")
    code, _, err = run(capsys, "inventory", "clusters")
    assert code == 2 and "LOG_FORMAT" in err


def test_db_upgrade_on_an_empty_database_twice(capsys, monkeypatch, empty_db_url):
    monkeypatch.setenv("DATABASE_URL", empty_db_url)
    code, out, _ = run(capsys, "db", "upgrade")
    assert code == 0 and head_revision() in out
    engine = make_engine(empty_db_url)
    try:
        assert check_schema(engine) == []
        assert current_revision(engine) == head_revision()
        code, _, _ = run(capsys, "db", "upgrade")
        assert code == 0
        assert check_schema(engine) == []
        code, out, _ = run(capsys, "db", "current")
        assert out.strip() == head_revision()
    finally:
        engine.dispose()


def test_inventory_sync_then_read_back_as_json(capsys, monkeypatch, kube_fleet, tmp_path, db_url, engine):
    fleet = kube_fleet(["prod", "stage"])
    summaries = {n: populate(fleet[n], FleetSpec(namespaces=2, pods_per_namespace=6, nodes=3, services=3, seed=i,
                                                 logs=False, events=False)) for i, n in enumerate(fleet.names)}
    monkeypatch.setenv("KUBECONFIG", str(fleet.write_kubeconfig(tmp_path / "kubeconfig")))
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("NAUTILUS_PROVIDERS", "kubeconfig")
    code, out, _ = run(capsys, "inventory", "sync")
    assert code == 0, out
    assert "2 clusters synced, 0 failed" in out
    code, out, _ = run(capsys, "inventory", "clusters", "--json")
    clusters = {c["name"]: c for c in json.loads(out)["clusters"]}
    assert set(clusters) == {"prod", "stage"}
    for name, summary in summaries.items():
        assert clusters[name]["node_count"] == len(fleet[name].list("v1", "nodes"))
        assert sum(clusters[name]["pod_counts"].values()) == len(summary.pods)
    code, out, _ = run(capsys, "inventory", "namespaces", "--cluster", "prod")
    assert code == 0 and "prod" in out and "stage" not in out

    # one cluster failing: exit 1, naming it; the other is still synced
    fleet["stage"].inject(status=500, times=None)
    code, out, err = run(capsys, "inventory", "sync")
    assert code == 1
    assert "kubeconfig///stage" in err and "1 failed" in out
    code, out, _ = run(capsys, "inventory", "runs", "--json", "--limit", "1")
    run_doc = json.loads(out)["runs"][0]
    assert run_doc["status"] == "partial"
    assert {o["cluster_key"]: o["status"] for o in run_doc["outcomes"] if o["cluster_key"]} == {
        "kubeconfig///prod": "ok", "kubeconfig///stage": "failed"}


def test_sync_only_selected_context_and_unknown_provider(capsys, monkeypatch, kube_fleet, tmp_path):
    fleet = kube_fleet(["a", "b"])
    monkeypatch.setenv("KUBECONFIG", str(fleet.write_kubeconfig(tmp_path / "kubeconfig")))
    code, out, _ = run(capsys, "inventory", "sync", "--provider", "kubeconfig", "--context", "b")
    assert code == 0 and "1 clusters synced" in out
    code, out, _ = run(capsys, "inventory", "clusters", "--json")
    assert [c["name"] for c in json.loads(out)["clusters"]] == ["b"]
    code, _, err = run(capsys, "inventory", "sync", "--provider", "nope")
    assert code == 2 and "nope" in err and "kubeconfig" in err


def test_demo_prints_a_fleet_into_the_default_sqlite(capsys, tmp_path):
    code, out, err = run(capsys, "demo")
    assert code == 0, err
    assert (tmp_path / "home" / "nautilus.db").exists()
    for cluster in ("demo-eu-west", "demo-us-east", "demo-ap-south"):
        assert cluster in out
    assert "Running=" in out and "CrashLoopBackOff=" in out
    assert "3 clusters synced, 0 failed" in out
    code, out, _ = run(capsys, "inventory", "clusters", "--json")
    assert len(json.loads(out)["clusters"]) == 3


def test_plugins_json_lists_the_five_plugin_packages_and_their_hooks(capsys):
    code, out, _ = run(capsys, "--strict", "plugins", "--json")
    assert code == 0
    plugins = {p["name"]: p for p in json.loads(out)["plugins"]}
    expected = {
        "eks": ("nautilus-eks", ["nautilus_register_providers", "nautilus_register_settings"]),
        "gke": ("nautilus-gke", ["nautilus_register_providers", "nautilus_register_settings"]),
        "aks": ("nautilus-aks", ["nautilus_register_providers", "nautilus_register_settings"]),
        "scaling": ("nautilus-scaling", ["nautilus_register_scaling_engines"]),
        "oda": ("nautilus-oda", ["nautilus_register_commands", "nautilus_register_reconcilers",
                                 "nautilus_register_settings"]),
    }
    for name, (dist, hooks) in expected.items():
        assert plugins[name]["distribution"] == dist
        assert plugins[name]["hooks"] == hooks
        assert plugins[name]["builtin"] is False and plugins[name]["version"] == "0.1.0"
    assert plugins["inventory"]["builtin"] is True
    assert plugins["inventory"]["hooks"] == ["nautilus_register_enrichers", "nautilus_register_kinds",
                                            "nautilus_register_providers"]


def test_sync_every_survives_a_database_outage(postgres_admin_url, kube_fleet, tmp_path):
    import os
    import secrets
    import signal
    import subprocess
    import sys
    import time

    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    fleet = kube_fleet(["solo"])
    name = f"nautilus_loop_{secrets.token_hex(4)}"
    url = make_url(postgres_admin_url).set(database=name).render_as_string(hide_password=False)
    env = os.environ | {"DATABASE_URL": url, "KUBECONFIG": str(fleet.write_kubeconfig(tmp_path / "kc")),
                        "NAUTILUS_PROVIDERS": "kubeconfig", "LOG_FORMAT": "json", "NAUTILUS_KUBE_RETRIES": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "nautilus_core.cli", "inventory", "sync", "--every", "1s"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    admin = make_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    try:
        time.sleep(2.5)                                   # the database does not exist yet: runs fail
        assert proc.poll() is None                        # ... and the loop goes on
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        probe = make_engine(url)
        deadline = time.monotonic() + 30
        while True:
            try:
                with probe.connect() as conn:
                    if conn.execute(text("SELECT count(*) FROM sync_run WHERE status = 'succeeded'")).scalar():
                        break
            except Exception:  # the schema is not there yet
                pass
            assert time.monotonic() < deadline, "the loop never recovered"
            time.sleep(0.2)
        probe.dispose()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        assert "sync failed" in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_help_does_not_import_the_kubernetes_client_or_cloud_sdks():
    import subprocess
    import sys

    code = ("import sys, io, contextlib\nfrom nautilus_core.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n    main(['--help'])\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'kubernetes', 'boto3', 'google', 'azure', "
            "'sqlalchemy', 'alembic'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]"
