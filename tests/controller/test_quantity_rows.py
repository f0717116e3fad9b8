"""Quantities in managed_resource rows written in plain SQL (``sqlite3`` / ``psql``), the way users do:
any valid Kubernetes spelling is accepted, sent canonically, and not re-applied on every resync by an
API server that answers in canonical form (the emulator stores quantities canonically, like one)."""

from __future__ import annotations

import subprocess
import time

from conftest import make_ready, until
from sqlalchemy.engine import make_url


def plain_sql(app, sql: str) -> None:
    """Run ``sql`` with the database's own command-line client."""
    url = make_url(app.settings.database_url_value())
    if url.get_backend_name() == "sqlite":
        command = ["sqlite3", str(url.database), sql]
    else:
        libpq = url.set(drivername="postgresql").render_as_string(hide_password=False)
        command = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", libpq, "-c", sql]
    subprocess.run(command, check=True, capture_output=True, text=True, timeout=60)


def container(emu, team, name):
    sts = emu.get("apps/v1", "statefulsets", name, f"team-{team}")
    return sts["spec"]["template"]["spec"]["containers"][0], sts


def test_rows_in_other_spellings_are_sent_canonically_and_left_alone_afterwards(controller, rows, kube_emulator,
                                                                                 app):
    controller()
    plain_sql(app, "INSERT INTO managed_resource (team, name, engine, replicas, storage_size, cpu, memory) VALUES "
                   "('payments', 'thousand', 'redis', 1, '1.5Gi', '1e3', '1024Mi'), "
                   "('payments', 'half', 'redis', 1, '10240Mi', '0.5', '0.5Gi'), "
                   "('payments', 'plain', 'redis', 1, '10Gi', '500m', '1Gi')")
    for name in ("thousand", "half", "plain"):
        until(lambda name=name: kube_emulator.get("apps/v1", "statefulsets", name, "team-payments"),
              what=f"{name} created")
        make_ready(kube_emulator, "team-payments", name)
    thousand, sts = container(kube_emulator, "payments", "thousand")
    assert thousand["resources"] == {"requests": {"cpu": "1e3", "memory": "1Gi"}, "limits": {"memory": "1Gi"}}
    assert sts["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] == "1536Mi"
    half, sts = container(kube_emulator, "payments", "half")
    assert half["resources"] == {"requests": {"cpu": "500m", "memory": "512Mi"}, "limits": {"memory": "512Mi"}}
    assert sts["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] == "10Gi"
    time.sleep(1.5)                                    # let the first resyncs after creation settle
    kube_emulator.requests.clear()
    time.sleep(2.0)                                    # four resyncs at 0.5 s
    writes = [(r.method, r.path) for r in kube_emulator.requests.writes if "/statefulsets" in r.path]
    assert writes == []                                # nothing re-applied: 0.5 is 500m, 1024Mi is 1Gi


def test_a_live_object_in_another_spelling_is_not_drift(controller, rows, kube_emulator, app):
    controller()
    plain_sql(app, "INSERT INTO managed_resource (team, name, engine, cpu, memory) "
                   "VALUES ('search', 'index', 'redis', '250m', '2Gi')")
    until(lambda: kube_emulator.get("apps/v1", "statefulsets", "index", "team-search"), what="created")
    make_ready(kube_emulator, "team-search", "index")
    sts = kube_emulator.get("apps/v1", "statefulsets", "index", "team-search")
    live = sts["spec"]["template"]["spec"]["containers"][0]
    live["resources"] = {"requests": {"cpu": "0.25", "memory": "2048Mi"}, "limits": {"memory": "2147483648"}}
    time.sleep(1.0)
    kube_emulator.requests.clear()
    kube_emulator.replace(sts)                         # e.g. written by an older server: same amounts
    time.sleep(2.5)                                    # its watch event, then four resyncs at 0.5 s
    assert [r for r in kube_emulator.requests.writes if "/statefulsets" in r.path] == []
    plain_sql(app, "UPDATE managed_resource SET cpu = '0.3' WHERE team = 'search' AND name = 'index'")
    until(lambda: container(kube_emulator, "search", "index")[0]["resources"]["requests"]["cpu"] == "300m",
          what="a real change applied")


def test_an_unusable_quantity_is_refused_naming_the_field(controller, rows, kube_emulator, app):
    import pytest

    from nautilus_core.errors import InvalidObjectError
    from nautilus_core.reconcilers.statefulsets.manifests import validate

    plain_sql(app, "INSERT INTO managed_resource (team, name, engine, cpu, storage_size) VALUES "
                   "('payments', 'bad', 'redis', '1.5 cores', NULL), ('payments', 'neg', 'redis', '-1', NULL), "
                   "('payments', 'empty', 'redis', NULL, '0Gi'), ('payments', 'good', 'redis', '2', NULL)")
    expected = {"bad": ("field 'cpu'", "'1.5 cores'"), "neg": ("field 'cpu'", "negative"),
                "empty": ("field 'storage_size'", "greater than zero")}
    for name, parts in expected.items():
        with pytest.raises(InvalidObjectError) as err:
            validate(rows.get("payments", name), "team-")    # the row as the database hands it over
        assert all(part in str(err.value) for part in parts), str(err.value)
    assert validate(rows.get("payments", "good"), "team-").cpu == "2"
    controller()
    until(lambda: kube_emulator.get("apps/v1", "statefulsets", "good", "team-payments"), what="good created")
    time.sleep(1.0)
    assert {s["metadata"]["name"] for s in kube_emulator.list("apps/v1", "statefulsets", "team-payments")} == {"good"}
