"""Controller benchmark: 1,000 managed resources on the emulator. Prints figures; asserts nothing.

Runs ``nautilus controller run`` in a child process (its RSS is the controller's alone) against
an emulated API server in this process and a SQLite (or PostgreSQL) database, and measures:
time to converge from empty (every StatefulSet created, then every row ready once the "kubelet"
reports ready replicas); event-to-reconcile latency (a StatefulSet status change, as a pod failure
produces, until the row shows it), p50/p99; API writes and database writes per unchanged resync
(goal: zero); the controller's peak and current RSS.

Run: ``python -m bench.controller [--resources 1000] [--postgres URL]``.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

from nautilus_core.db import make_engine, metadata, upgrade
from nautilus_core.testing import KubeEmulator

RESOURCE = metadata.tables["managed_resource"]
TEAMS = 10


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait(predicate, timeout: float, what: str) -> float:
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            raise SystemExit(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)
    return time.monotonic() - started


def rss_mb(pid: int) -> tuple[float, float]:
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmHWM"].split()[0]) / 1024, int(fields["VmRSS"].split()[0]) / 1024


def rows(engine) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(RESOURCE).order_by(RESOURCE.c.id)).mappings()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=1000)
    parser.add_argument("--postgres", default=None, help="a PostgreSQL URL (default: SQLite in a temp dir)")
    parser.add_argument("--resync", type=float, default=10.0, help="RECONCILE_INTERVAL for the run")
    parser.add_argument("--samples", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nautilus-bench-") as tmp, KubeEmulator("bench") as emu:
        url = args.postgres or f"sqlite:///{tmp}/controller.db"
        engine = make_engine(url)
        upgrade(engine)
        for t in range(TEAMS):
            emu.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": f"team-{t}"}})
        with engine.begin() as conn:
            conn.execute(RESOURCE.insert(), [{"team": str(i % TEAMS), "name": f"db-{i:04d}", "engine": "redis",
                                              "replicas": 1, "memory": "256Mi"} for i in range(args.resources)])
        kubeconfig = str(emu.write_kubeconfig(Path(tmp) / "kubeconfig"))
        env = os.environ | {"DATABASE_URL": url, "KUBECONFIG": kubeconfig, "NAMESPACE_PREFIX": "team-",
                            "RECONCILE_INTERVAL": str(args.resync), "METRICS_PORT": str(free_port()),
                            "HEALTH_CHECK_PORT": str(free_port()), "LOG_LEVEL": "WARNING",
                            "NAUTILUS_DISABLE_PLUGINS": "eks,gke,aks,oda,scaling"}
        started = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-m", "nautilus_core.cli.__main__", "controller", "run",
                                 "--no-leader-election"], env=env, stdout=subprocess.DEVNULL,
                                stderr=open(Path(tmp) / "controller.log", "w"))  # noqa: SIM115
        try:
            def created() -> bool:
                return len(emu.list("apps/v1", "statefulsets")) >= args.resources
            t_created = wait(created, 600, "StatefulSets") + 0.0
            t_created = time.monotonic() - started
            for sts in emu.list("apps/v1", "statefulsets"):
                emu.patch("apps/v1", "statefulsets", sts["metadata"]["name"], {"status": {
                    "replicas": 1, "readyReplicas": 1, "observedGeneration": sts["metadata"]["generation"]}},
                    namespace=sts["metadata"]["namespace"])
            ready_started = time.monotonic()
            wait(lambda: all(r["status"] == "ready" for r in rows(engine)), 600, "rows ready")
            t_ready = time.monotonic() - ready_started

            latencies = []
            picks = random.Random(7).sample(rows(engine), min(args.samples, args.resources))
            for row in picks:
                ns, name = f"team-{row['team']}", row["name"]
                t0 = time.monotonic()
                emu.patch("apps/v1", "statefulsets", name, {"status": {"readyReplicas": 0}}, namespace=ns)

                def seen(team=row["team"], name=name) -> bool:
                    with engine.connect() as conn:
                        msg = conn.execute(select(RESOURCE.c.status_message).where(
                            (RESOURCE.c.team == team) & (RESOURCE.c.name == name))).scalar()
                    return msg == "0/1 replicas ready"
                wait(seen, 60, f"{name} reconciled")
                latencies.append(time.monotonic() - t0)
                emu.patch("apps/v1", "statefulsets", name, {"status": {"readyReplicas": 1}}, namespace=ns)
            wait(lambda: all(r["status"] == "ready" for r in rows(engine)), 120, "rows ready again")

            time.sleep(args.resync)                      # let pending requeues settle
            before = rows(engine)
            emu.requests.clear()
            window = 3 * args.resync
            time.sleep(window)
            after = rows(engine)
            requests = emu.requests.snapshot()
            writes = [r for r in requests if r.is_write]
            changed = sum(1 for a, b in zip(before, after, strict=True) if a != b)
            peak, current = rss_mb(proc.pid)
        finally:
            proc.terminate()
            code = proc.wait(timeout=60)
        latencies.sort()
        resyncs = window / args.resync
        print(f"controller benchmark: {args.resources} managed resources, {TEAMS} team namespaces, "
              f"{'PostgreSQL' if args.postgres else 'SQLite'}, RECONCILE_INTERVAL={args.resync}s, 5 workers")
        print(f"  converge: all StatefulSets created     {t_created:8.1f} s (from process start)")
        print(f"  converge: all rows ready after kubelet {t_ready:8.1f} s")
        print(f"  event -> reconcile (n={len(latencies)})        p50 {statistics.median(latencies) * 1000:6.0f} ms"
              f"   p99 {latencies[int(0.99 * (len(latencies) - 1))] * 1000:6.0f} ms")
        print(f"  steady state over {window:.0f} s (~{resyncs:.0f} resyncs): API writes {len(writes)}, "
              f"rows changed {changed}, API reads {len(requests) - len(writes)} "
              f"(~{(len(requests) - len(writes)) / resyncs:.0f} per resync)")
        print(f"  controller RSS: peak {peak:.0f} MB, now {current:.0f} MB; exit code on SIGTERM {code}")
        engine.dispose()


if __name__ == "__main__":
    main()
