"""``nautilus podwatch serve`` in a subprocess, as users run it, with the seed's environment.

``serve --collect`` runs the collector and the dashboard as runnables of one manager in one process:
the emulator's pods show up in the API, ``/healthz`` lists both runnables, PODWATCH_TOKEN guards the
API (and never appears in the output), SIGTERM exits 0; without a token a non-loopback address is
refused naming PODWATCH_TOKEN.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from nautilus_core.testing import FleetSpec, populate, until

TOKEN = "tok-" + "s3cr3t-value-9f8e7d"


def start(args: list[str], env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, "-m", "nautilus_core.cli", "podwatch", "serve", *args],
                            env=os.environ | env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    match = re.search(r"on (http://127\.0\.0\.1:\d+)", line)
    if not match:
        proc.kill()
        raise AssertionError(f"no address printed: {line!r} {proc.stderr.read() if proc.stderr else ''}")
    return proc, match[1]


def test_serve_collect_with_a_token_then_sigterm(engine: Any, db_url: str, kube_emulator: Any, tmp_path: Path):
    summary = populate(kube_emulator, FleetSpec(namespaces=1, pods_per_namespace=20, nodes=2, services=1, seed=2))
    kubeconfig = kube_emulator.write_kubeconfig(tmp_path / "kubeconfig")
    env = {"DATABASE_URL": db_url, "KUBECONFIG": str(kubeconfig), "NAUTILUS_PROVIDERS": "kubeconfig",
           "TARGET_NAMESPACE": summary.namespaces[0], "PODWATCH_TOKEN": TOKEN, "LOG_FORMAT": "json",
           "NAUTILUS_KUBE_RETRIES": "1", "NAUTILUS_KUBE_TIMEOUT": "5", "LOG_LEVEL": "DEBUG"}
    proc, url = start(["--port", "0", "--collect", "--every", "1s"], env)
    try:
        auth = {"Authorization": f"Bearer {TOKEN}"}
        assert httpx.get(url + "/api/v1/pods").status_code == 401
        assert httpx.get(url + "/api/v1/pods", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert httpx.get(url + "/openapi.json").status_code == 401
        assert httpx.get(url + "/", follow_redirects=False).headers["location"] == "/login"
        page = until(lambda: (r := httpx.get(url + "/api/v1/pods", headers=auth).json())["total"] and r,
                     timeout=60, what="the collector's pods in the API")
        assert page["total"] == 20
        assert page["items"][0]["health"] == "failing"
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM pod")).scalar() == 20
        health = httpx.get(url + "/healthz").json()  # no token needed for the probe
        assert health["status"] == "ok" and set(health["checks"]) >= {"database", "web"}
        assert len(health["checks"]) == 3  # the collector's runnable too
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert TOKEN not in out and TOKEN not in err


def test_no_token_refuses_a_public_address_naming_the_variable(db_url: str, engine: Any):
    result = subprocess.run([sys.executable, "-m", "nautilus_core.cli", "podwatch", "serve", "--host", "0.0.0.0",
                             "--port", "0"], env=os.environ | {"DATABASE_URL": db_url},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "PODWATCH_TOKEN" in result.stderr and "0.0.0.0" in result.stderr


def test_serve_alone_reads_the_database(engine: Any, db_url: str):
    from web_helpers import triage_rows

    triage_rows(engine)
    proc, url = start(["--port", "0", "--pods-refresh", "5s", "--logs-refresh", "2s"], {"DATABASE_URL": db_url})
    try:
        names = [p["name"] for p in httpx.get(url + "/api/v1/pods").json()["items"]]
        assert names[0] == "api-7c9-crash"
        config = httpx.get(url + "/api/v1/config").json()
        assert config["pods_refresh_seconds"] == 5 and config["logs_refresh_seconds"] == 2 and not config["auth"]
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
    assert proc.returncode == 0


def test_demo_serve_collects_the_emulated_fleet_and_serves_it(tmp_path: Path):
    proc = subprocess.Popen([sys.executable, "-m", "nautilus_core.cli", "demo", "--serve", "--port", "0"],
                            env=os.environ | {"NAUTILUS_HOME": str(tmp_path), "LOG_FORMAT": "json"},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+)$", line.strip())
        assert match, line
        url = match[1]
        page = httpx.get(url + "/api/v1/pods", params={"limit": 1000}).json()
        assert page["total"] > 20
        healths = [p["health"] for p in page["items"]]
        assert healths[0] == "failing" and {"degraded", "initializing", "healthy"} <= set(healths)
        statuses = {p["status"] for p in page["items"] if p["health"] == "failing"}
        assert {"CrashLoopBackOff", "ImagePullBackOff"} <= statuses
        assert httpx.get(url + "/").status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
