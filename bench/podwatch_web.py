"""Pod triage dashboard benchmark: 5,000 pods. Prints figures; asserts nothing.

Writes 5,000 pods (2 clusters x 10 namespaces, every health bucket, top issues, 2 containers each,
log entries for the failing ones) into a fresh database (SQLite file by default; ``--postgres URL``
for PostgreSQL), then runs ``nautilus podwatch serve`` in a child process on it, as users do, and
measures:

- API list latency p50/p99 of ``GET /api/v1/pods?limit=100`` at 50 concurrent connections with
  ``wrk``, after a 2 s unmeasured warm-up (goal: p99 < 50 ms): as served (identical requests share
  the 1 s micro-cache, refreshed in the background), with the cache never expiring during the run
  (a second server with ``--cache-ttl 60s``: the serving floor), and with a different page for
  every request (each one queries the database); the summary as served;
- the time Chromium (Debian's, through Playwright) takes to show the first 100 pods from navigation
  start (goal: < 1 s);
- the server's RSS with 5,000 pods after the runs, and its peak (goal: < 150 MB).

Run: ``python -m bench.podwatch_web [--pods 5000] [--duration 10] [--postgres URL]``.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HEALTHS = [("failing", 6), ("degraded", 6), ("initializing", 3), ("healthy", 80), ("completed", 5)]
REASONS = {"failing": ("CrashLoopBackOff", "back-off 5m0s restarting failed container", "read its logs"),
           "degraded": ("Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503", None),
           "initializing": ("ContainerCreating", None, None)}


def write_pods(url: str, pods: int) -> None:
    from sqlalchemy import insert

    from nautilus_core.db import Cluster, Container, LogLine, Pod, make_engine, upgrade

    engine = make_engine(url)
    upgrade(engine)
    now = datetime.now(UTC)
    buckets = [h for h, weight in HEALTHS for _ in range(weight)]
    with engine.begin() as conn:
        clusters = [conn.execute(insert(Cluster.__table__).values(key=f"bench///c{i}", provider="bench",  # type: ignore[attr-defined]
                                                                  name=f"bench-{i}")).inserted_primary_key[0]
                    for i in range(2)]
        rows = []
        for i in range(pods):
            health = buckets[i % len(buckets)]
            reason = REASONS.get(health)
            rows.append(dict(
                cluster_id=clusters[i % 2], namespace=f"team-{i % 10}", name=f"app-{i // 7}-{i:05d}", uid=f"u{i}",
                phase="Running", status=reason[0] if reason else ("Completed" if health == "completed" else "Running"),
                ready="0/2" if reason else "2/2", ready_count=0 if reason else 2, container_count=2,
                restarts=7 if health == "failing" else 0, restarts_text="7 (3m ago)" if health == "failing" else "0",
                node=f"node-{i % 40}", owner_kind="ReplicaSet", owner_name=f"app-{i // 7}-6d5f",
                created_at=now - timedelta(hours=i % 300), health=health,
                attention={"failing": 9000, "degraded": 6000, "initializing": 3000}.get(health, 100) + i % 97,
                top_container="main" if reason else None, top_reason=reason[0] if reason else None,
                top_message=reason[1] if reason else None, top_hint=reason[2] if reason else None,
                error_count=5 if health == "failing" else 0, warning_count=2 if reason else 0,
                exception_count=1 if health == "failing" else 0, labels={"app": f"app-{i // 7}"},
                first_seen_at=now, last_seen_at=now))
        conn.execute(insert(Pod.__table__), rows)  # type: ignore[attr-defined]
        ids = [r[0] for r in conn.exec_driver_sql("SELECT id, health FROM pod").all()]
        failing = [r[0] for r in conn.exec_driver_sql("SELECT id FROM pod WHERE health = 'failing'").all()]
        conn.execute(insert(Container.__table__), [  # type: ignore[attr-defined]
            dict(pod_id=pid, name=name, init=False, image="registry.local/app:1", ready=True, state="running",
                 restart_count=0, error_count=0, warning_count=0, exception_count=0)
            for pid in ids for name in ("main", "sidecar")])
        conn.execute(insert(LogLine.__table__), [  # type: ignore[attr-defined]
            dict(pod_id=pid, container="main", previous=False, ts=now, seq=n, fingerprint=f"{pid}-{n}",
                 level=("error", "warning", "info", "info")[n % 4], text=f"line {n}: request failed id={pid}")
            for pid in failing for n in range(50)])
    engine.dispose()


def rss_kb(pid: int) -> tuple[int, int]:
    status = Path(f"/proc/{pid}/status").read_text()
    rss = int(re.search(r"VmRSS:\s+(\d+)", status)[1])  # type: ignore[index]
    peak = int(re.search(r"VmHWM:\s+(\d+)", status)[1])  # type: ignore[index]
    return rss, peak


def parse_wrk(out: str) -> dict[str, float]:
    def ms(value: str) -> float:
        number, unit = re.match(r"([\d.]+)(us|ms|s)", value).groups()  # type: ignore[union-attr]
        return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    figures = {f"p{p}": ms(v) for p, v in re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M)}
    figures["rps"] = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])  # type: ignore[index]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    figures["non2xx"] = float(errors[1]) if errors else 0.0
    return figures


WRK_PAGES = """
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", "/api/v1/pods?limit=100&offset=" .. ((counter * 100) % 4900 + counter % 97))
end
"""


def run_wrk(url: str, duration: int, script: str | None = None) -> dict[str, float]:
    args = ["wrk", "-t2", "-c50", f"-d{duration}s", "--latency", "--timeout", "5s"]
    if script:
        args += ["-s", script]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    return parse_wrk(out)


def first_100_pods(url: str, runs: int = 3) -> list[tuple[float, float]]:
    from playwright.sync_api import sync_playwright

    times = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        try:
            for _ in range(runs):
                context = browser.new_context(viewport={"width": 1280, "height": 900})
                page = context.new_page()
                started = time.perf_counter()
                page.goto(url + "/")
                page.wait_for_selector("#pods > li.pod:nth-child(100)")
                wall = (time.perf_counter() - started) * 1000
                in_page = float(page.evaluate("document.body.dataset.firstPodsMs"))
                times.append((wall, in_page))
                context.close()
        finally:
            browser.close()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pods", type=int, default=5000)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--postgres", default=None, help="a PostgreSQL database URL to use instead of SQLite")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="bench-podwatch-web-") as tmp:
        url = args.postgres or f"sqlite:///{tmp}/bench.db"
        started = time.perf_counter()
        write_pods(url, args.pods)
        print(f"database: {'postgresql' if args.postgres else 'sqlite'}, {args.pods} pods written in "
              f"{time.perf_counter() - started:.1f}s; machine: {os.cpu_count()} CPUs, load average "
              f"{os.getloadavg()[0]:.1f} (wrk runs on the same machine)")
        env = os.environ | {"DATABASE_URL": url, "NAUTILUS_HOME": tmp, "LOG_LEVEL": "WARNING"}
        proc = subprocess.Popen([sys.executable, "-m", "nautilus_core.cli", "podwatch", "serve", "--port", "0"],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        floor = subprocess.Popen([sys.executable, "-m", "nautilus_core.cli", "podwatch", "serve", "--port", "0",
                                  "--cache-ttl", "60s"],
                                 env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            assert proc.stdout is not None and floor.stdout is not None
            base = re.search(r"(http://\S+)", proc.stdout.readline())[1]  # type: ignore[index]
            ttl_base = re.search(r"(http://\S+)", floor.stdout.readline())[1]  # type: ignore[index]
            idle = rss_kb(proc.pid)[0]
            for server in (base, ttl_base):  # warm both up (first connections, statement caches) unmeasured
                for path in ("/api/v1/pods?limit=100", "/api/v1/summary"):
                    run_wrk(server + path, 2)
            report(run_wrk(base + "/api/v1/pods?limit=100", args.duration),
                   "API list (page 1, as served: 1 s micro-cache)")
            report(run_wrk(ttl_base + "/api/v1/pods?limit=100", args.duration),
                   "API list (page 1, cache never expiring during the run: the serving floor)")
            with tempfile.NamedTemporaryFile("w", suffix=".lua", dir=tmp, delete=False) as script:
                script.write(WRK_PAGES)
            report(run_wrk(base, args.duration, script.name), "API list (a different page each request: uncached)")
            report(run_wrk(base + "/api/v1/summary", args.duration), "API summary (as served)")
            if Path("/usr/bin/chromium").exists():
                times = first_100_pods(base)
                walls = sorted(t[0] for t in times)
                pages = sorted(t[1] for t in times)
                print(f"Chromium: first 100 pods shown in {walls[len(walls) // 2]:.0f} ms from goto "
                      f"(median of {len(times)}; in page {pages[len(pages) // 2]:.0f} ms after navigation start) "
                      f"[goal < 1000 ms]")
            else:
                print("Chromium: /usr/bin/chromium missing, page figure skipped")
            rss, peak = rss_kb(proc.pid)
            print(f"server RSS with {args.pods} pods: {idle / 1024:.0f} MB idle, {rss / 1024:.0f} MB after the runs, "
                  f"peak {peak / 1024:.0f} MB [goal < 150 MB]")
        finally:
            for child in (proc, floor):
                child.send_signal(signal.SIGTERM)
                child.wait(timeout=30)
    return 0


def report(figures: dict[str, Any], what: str) -> None:
    print(f"{what}: p50 {figures['p50']:.1f} ms, p99 {figures['p99']:.1f} ms, {figures['rps']:.0f} req/s "
          f"at 50 connections, non-2xx {figures['non2xx']:.0f} [goal p99 < 50 ms]")


if __name__ == "__main__":
    sys.exit(main())
