"""A plugin distribution that adds an inventory kind with its own table and its own Alembic migration:
``nautilus db upgrade`` (the CLI in a subprocess) creates the table next to the core's, and
``nautilus inventory sync`` fills it from the emulated fleet while the built-in kinds stay as they are.
This is the hookspecs' ``IngressEnricher`` example, written as a real installed plugin."""

from __future__ import annotations

import json
import os
import textwrap
from collections import Counter
from pathlib import Path

import pytest
from inv_helpers import cli, cli_env
from sqlalchemy import inspect, text

from nautilus_core.db import current_revision, head_revision, make_engine

PLUGIN = '''
"""acme: ingresses as an inventory kind of their own."""
from pathlib import Path

from sqlalchemy import Column, String

from nautilus_core import Facts, Kind, hookimpl
from nautilus_core.db import kind_table

INGRESS = kind_table("acme_ingress", ("namespace", "name"), Column("host", String), Column("class_name", String))


class IngressEnricher:
    name = "acme-ingresses"
    contributes = {"ingresses": ("host", "class_name")}

    def enrich(self, cluster, kube):
        rows = []
        for item in kube.list("networking.k8s.io/v1", "ingresses"):
            meta, spec = item["metadata"], item.get("spec") or {}
            rules = spec.get("rules") or [{}]
            rows.append({"namespace": meta["namespace"], "name": meta["name"],
                         "host": rules[0].get("host"), "class_name": spec.get("ingressClassName")})
        return Facts(rows={"ingresses": rows})


@hookimpl
def nautilus_register_kinds(register):
    register(Kind("ingresses", INGRESS, key=("namespace", "name"),
                  migrations=str(Path(__file__).parent / "migrations")))


@hookimpl
def nautilus_register_enrichers(register):
    register(IngressEnricher())
'''

MIGRATION = '''
"""acme: the acme_ingress table (branch "acme", needs the core's cluster table)."""
import sqlalchemy as sa
from alembic import op

revision = "acme_0001"
down_revision = None
branch_labels = ("acme",)
depends_on = "0001"

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    op.create_table(
        "acme_ingress",
        sa.Column("id", ID, primary_key=True),
        sa.Column("cluster_id", ID, sa.ForeignKey("cluster.id", ondelete="CASCADE"), nullable=False),
        sa.Column("namespace", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("host", sa.String()),
        sa.Column("class_name", sa.String()),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True)),
        sa.Column("data_hash", sa.String(), nullable=False),
        sa.UniqueConstraint("cluster_id", "namespace", "name", name="uq_acme_ingress_key"),
    )


def downgrade():
    op.drop_table("acme_ingress")
'''


def install_acme(site: Path) -> None:
    """``pip install nautilus-acme``, as far as Python can tell: a package, its migrations, dist-info."""
    package = site / "nautilus_acme"
    (package / "migrations").mkdir(parents=True)
    (package / "__init__.py").write_text(textwrap.dedent(PLUGIN))
    (package / "migrations" / "acme_0001_ingress.py").write_text(textwrap.dedent(MIGRATION))
    info = site / "nautilus_acme-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: nautilus-acme\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[nautilus]\nacme = nautilus_acme\n")


def ingress(namespace: str, name: str, host: str) -> dict:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"ingressClassName": "nginx", "rules": [{"host": host}]}}


@pytest.fixture
def acme_env(tmp_path: Path, empty_db_url: str, fleet) -> dict[str, str]:
    site = tmp_path / "site"
    install_acme(site)
    for name in ("east", "west"):
        namespace = sorted(fleet.summaries[name].namespaces)[0]
        fleet[name].create(ingress(namespace, "web", f"web.{name}.example"))
        fleet[name].create(ingress(namespace, "api", f"api.{name}.example"))
    path = os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])
    return cli_env(empty_db_url, str(fleet.kubeconfig), PYTHONPATH=path)


def rows(url: str, sql: str) -> list[dict]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return [dict(r) for r in conn.execute(text(sql)).mappings()]
    finally:
        engine.dispose()


def test_db_upgrade_applies_the_plugins_migration_branch(acme_env, empty_db_url):
    upgraded = cli("db", "upgrade", env=acme_env)
    assert upgraded.returncode == 0, upgraded.stderr
    engine = make_engine(empty_db_url)
    try:
        tables = set(inspect(engine).get_table_names())
        assert {"cluster", "namespace", "acme_ingress"} <= tables
        assert current_revision(engine) == ",".join(sorted([head_revision() or "", "acme_0001"]))
    finally:
        engine.dispose()
    again = cli("db", "upgrade", env=acme_env)  # idempotent: both heads are applied already
    assert again.returncode == 0, again.stderr


def test_inventory_sync_fills_the_plugins_table_and_keeps_the_built_in_kinds(acme_env, empty_db_url, fleet):
    synced = cli("inventory", "sync", "--json", env=acme_env)
    assert synced.returncode == 0, synced.stderr
    found = rows(empty_db_url, "SELECT c.name AS cluster, i.namespace, i.name, i.host, i.class_name, i.deleted_at "
                               "FROM acme_ingress i JOIN cluster c ON c.id = i.cluster_id")
    assert sorted((r["cluster"], r["name"], r["host"], r["class_name"]) for r in found) == [
        ("east", "api", "api.east.example", "nginx"), ("east", "web", "web.east.example", "nginx"),
        ("west", "api", "api.west.example", "nginx"), ("west", "web", "web.west.example", "nginx")]
    assert all(r["deleted_at"] is None for r in found)
    clusters = {r["name"]: r for r in rows(empty_db_url, "SELECT name, pod_counts FROM cluster")}
    for name, summary in fleet.summaries.items():  # the built-in kinds are filled as without the plugin
        counts = clusters[name]["pod_counts"]
        counts = json.loads(counts) if isinstance(counts, str) else counts
        assert counts == dict(Counter(summary.expected_status(ns, pod) for ns, pod in summary.pods))

    # an ingress deleted from the cluster is tombstoned; the other cluster's rows are untouched
    namespace = sorted(fleet.summaries["east"].namespaces)[0]
    fleet["east"].delete("networking.k8s.io/v1", "ingresses", "api", namespace)
    again = cli("inventory", "sync", env=acme_env)
    assert again.returncode == 0, again.stderr
    after = rows(empty_db_url, "SELECT c.name AS cluster, i.name, i.deleted_at FROM acme_ingress i "
                               "JOIN cluster c ON c.id = i.cluster_id")
    gone = {(r["cluster"], r["name"]) for r in after if r["deleted_at"] is not None}
    assert gone == {("east", "api")}
