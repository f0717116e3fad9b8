"""Controller benchmark: 1,000 managed resources on the emulator. Prints figures; asserts nothing.

Runs ``nautilus controller run`` in a child process (its CPU and RSS are the controller's alone)
against an emulated API server in this process and a SQLite database, or a throw-away PostgreSQL
database created on the server given by ``--postgres`` (and dropped afterwards). It disturbs what it
measures as little as it can: progress is read from the emulator's request journal (a count, not a
copy of every StatefulSet) and from one row at a time, polled every 5 ms. Figures:

- converge from empty: every StatefulSet created (from process start), with the API reads and
  writes it took; every row ready once the "kubelet" reports ready replicas;
- event -> reconcile: a StatefulSet status change until its row shows it, p50/p99, idle and while
  the change feed floods the queue (every row touched in one UPDATE);
- idle: controller CPU over a window with nothing changing (percent of one core), API reads and
  writes and rows changed per resync (goal: zero);
- the controller's peak and current RSS, and its exit code on SIGTERM.

Run: ``python -m bench.controller [--resources 1000] [--resync 10] [--postgres ADMIN_URL]``.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from nautilus_core.db import make_engine, metadata, upgrade
from nautilus_core.testing import KubeEmulator

RESOURCE = metadata.tables["managed_resource"]
TEAMS = 10
TICK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait(predicate, timeout: float, what: str, poll: float = 0.05) -> float:
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            raise SystemExit(f"timed out after {timeout}s waiting for {what}")
        time.sleep(poll)
    return time.monotonic() - started


def rss_mb(pid: int) -> tuple[float, float]:
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmHWM"].split()[0]) / 1024, int(fields["VmRSS"].split()[0]) / 1024


def cpu_seconds(pid: int) -> float:
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(stat[11]) + int(stat[12])) / TICK  # utime + stime


def count_status(engine, status: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(RESOURCE.c.id).where(RESOURCE.c.status == status)
                                .with_only_columns(text("count(*)"))).scalar() or 0)


def snapshot(engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(RESOURCE).order_by(RESOURCE.c.id))]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1) + 0.5))]


def latencies(emu, engine, picks, ready: int, flood=None) -> list[float]:
    out = []
    for i, (team, name) in enumerate(picks):
        if flood is not None and i % 10 == 0:
            flood()
        ns = f"team-{team}"
        t0 = time.monotonic()
        emu.patch("apps/v1", "statefulsets", name, {"status": {"readyReplicas": ready}}, namespace=ns)
        want = f"{ready}/1 replicas ready"

        def seen(team=team, name=name, want=want) -> bool:
            with engine.connect() as conn:
                return conn.execute(select(RESOURCE.c.status_message).where(
                    (RESOURCE.c.team == team) & (RESOURCE.c.name == name))).scalar() == want
        wait(seen, 60, f"{name} reconciled", poll=0.005)
        out.append(time.monotonic() - t0)
    return out


def database(args, tmp: str) -> tuple[str, object]:
    if not args.postgres:
        return f"sqlite:///{tmp}/controller.db", None
    name = f"nautilus_bench_{secrets.token_hex(4)}"
    admin = make_engine(args.postgres, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
    return make_url(args.postgres).set(database=name).render_as_string(hide_password=False), drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=1000)
    parser.add_argument("--postgres", default=None, help="PostgreSQL admin URL: a throw-away database is made there")
    parser.add_argument("--resync", type=float, default=10.0, help="RECONCILE_INTERVAL for the run")
    parser.add_argument("--samples", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nautilus-bench-") as tmp, KubeEmulator("bench") as emu:
        url, drop = database(args, tmp)
        engine = make_engine(url)
        try:
            run(args, emu, engine, url, tmp)
        finally:
            engine.dispose()
            if drop is not None:
                drop()


def run(args, emu, engine, url: str, tmp: str) -> None:
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
    emu.requests.clear()
    started = time.monotonic()
    log = open(Path(tmp) / "controller.log", "w")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-m", "nautilus_core.cli.__main__", "controller", "run",
                             "--no-leader-election"], env=env, stdout=subprocess.DEVNULL, stderr=log)
    try:
        def applies() -> int:
            return sum(1 for r in emu.requests.snapshot()
                       if r.method == "PATCH" and "/statefulsets/" in r.path and "fieldManager" in r.query)
        wait(lambda: applies() >= args.resources, 600, "StatefulSets", poll=0.02)
        t_created = time.monotonic() - started
        converge = emu.requests.snapshot()
        gets = [r for r in converge
                if r.method == "GET" and r.query.get("watch") != "true" and "/version" not in r.path]
        object_gets = [r for r in gets if "limit" not in r.query]   # lists are paginated; a GET of one object is not
        for sts in emu.list("apps/v1", "statefulsets"):
            emu.patch("apps/v1", "statefulsets", sts["metadata"]["name"], {"status": {
                "replicas": 1, "readyReplicas": 1, "observedGeneration": sts["metadata"]["generation"]}},
                namespace=sts["metadata"]["namespace"])
        ready_started = time.monotonic()
        wait(lambda: count_status(engine, "ready") == args.resources, 600, "rows ready")
        t_ready = time.monotonic() - ready_started

        picks = [(r[0], r[1]) for r in random.Random(7).sample(
            [(str(i % TEAMS), f"db-{i:04d}") for i in range(args.resources)], min(args.samples, args.resources))]
        idle_lat = latencies(emu, engine, picks, 0)

        def flood() -> None:  # every row's version moves: the change feed enqueues all of them
            with engine.begin() as conn:
                conn.execute(text("UPDATE managed_resource SET updated_at = CURRENT_TIMESTAMP"))
        busy_lat = latencies(emu, engine, picks, 1, flood)
        wait(lambda: count_status(engine, "ready") == args.resources, 120, "rows ready again")

        time.sleep(args.resync + 2)                  # let the flood and pending requeues settle
        before = snapshot(engine)
        emu.requests.clear()
        cpu0, t0 = cpu_seconds(proc.pid), time.monotonic()
        window = 3 * args.resync
        time.sleep(window)
        cpu = (cpu_seconds(proc.pid) - cpu0) / (time.monotonic() - t0)
        after = snapshot(engine)
        requests = emu.requests.snapshot()
        writes = [r for r in requests if r.is_write]
        reads = [r for r in requests if not r.is_write and r.query.get("watch") != "true"]
        changed = sum(1 for a, b in zip(before, after, strict=True) if a != b)
        peak, current = rss_mb(proc.pid)
    finally:
        proc.terminate()
        code = proc.wait(timeout=60)
        log.close()
    resyncs = window / args.resync
    print(f"controller benchmark: {args.resources} managed resources, {TEAMS} team namespaces, "
          f"{'PostgreSQL' if args.postgres else 'SQLite'}, RECONCILE_INTERVAL={args.resync}s, 5 workers")
    print(f"  converge: all StatefulSets created     {t_created:8.1f} s (from process start); "
          f"{len(gets)} GETs ({len(object_gets)} of single objects), {args.resources} applies")
    print(f"  converge: all rows ready after kubelet {t_ready:8.1f} s")
    for label, lat in (("idle", idle_lat), ("change-feed flood", busy_lat)):
        print(f"  event -> reconcile, {label:17} (n={len(lat)}): p50 {statistics.median(lat) * 1000:6.0f} ms"
              f"   p99 {percentile(lat, 0.99) * 1000:6.0f} ms")
    print(f"  idle over {window:.0f} s (~{resyncs:.0f} resyncs): CPU {cpu * 100:.2f} % of a core; "
          f"API writes {len(writes)}, API reads {len(reads)} (besides watches), rows changed {changed}")
    print(f"  controller RSS: peak {peak:.0f} MB, now {current:.0f} MB; exit code on SIGTERM {code}")


if __name__ == "__main__":
    main()
