"""Intelligent-scaling benchmark: 500 IntelligentScaling objects x 3 metrics. Prints figures; asserts nothing.

Runs ``nautilus controller run -r intelligent-scaling`` in a child process against an emulated API
server (500 Deployments, one per object, and the generated CRDs) and a local Prometheus stand-in
that answers every query with a one-series vector and counts what it is asked (PromQL semantics do
not matter here; the tests use a real Prometheus). Each object has 3 metrics: two queries shared by
every object and one of its own, so a cycle has 502 distinct queries among 1,500. Figures, over
``--cycles`` polling intervals after the first: Prometheus requests per cycle (goal: one per distinct
query), reconcile (decision) latency p50/p99 from the runtime's histogram, the operator's CPU share
and peak RSS (goal: under 150 MB).

Run: ``python -m bench.scaling [--objects 500] [--interval 30] [--cycles 2]``.
"""

from __future__ import annotations

import argparse
import http.server
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from nautilus_core.scaling.model import VERSION, crds
from nautilus_core.testing import KubeEmulator

TICK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Counting(http.server.BaseHTTPRequestHandler):
    count = 0
    lock = threading.Lock()

    def do_GET(self) -> None:
        with Counting.lock:
            Counting.count += 1
        body = b'{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[0,"5"]}]}}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def cpu_seconds(pid: int) -> float:
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(stat[11]) + int(stat[12])) / TICK


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def histogram(text: str, name: str) -> list[tuple[float, float]]:
    out = []
    for line in text.splitlines():
        if line.startswith(f"{name}_bucket{{") and 'controller="intelligent-scaling"' in line:
            le = line.split('le="', 1)[1].split('"', 1)[0]
            out.append((float("inf") if le == "+Inf" else float(le), float(line.rsplit(" ", 1)[1])))
    return sorted(out)


def quantile(buckets: list[tuple[float, float]], q: float) -> float:
    total = buckets[-1][1] if buckets else 0
    for le, count in buckets:
        if count >= q * total:
            return le
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=500)
    parser.add_argument("--interval", type=int, default=30)
    parser.add_argument("--cycles", type=int, default=2)
    args = parser.parse_args()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Counting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    prom = f"http://127.0.0.1:{server.server_address[1]}"
    with tempfile.TemporaryDirectory(prefix="nautilus-bench-") as tmp, KubeEmulator("bench") as emu:
        for crd in crds():
            emu.create(crd)
        emu.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
        for i in range(args.objects):
            emu.create({"apiVersion": "apps/v1", "kind": "Deployment",
                        "metadata": {"name": f"d-{i}", "namespace": "shop", "labels": {"app": f"d-{i}"}},
                        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": f"d-{i}"}},
                                 "template": {"metadata": {"labels": {"app": f"d-{i}"}},
                                              "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}})
            emu.create({"apiVersion": f"nautilus.io/{VERSION}", "kind": "IntelligentScaling",
                        "metadata": {"name": f"s-{i}", "namespace": "shop"},
                        "spec": {"namespace": "shop", "target_labels": {"app": f"d-{i}"}, "min_replicas": 1,
                                 "max_replicas": 10, "polling_interval": args.interval,
                                 "metrics_config": {"prometheus_url": prom, "metrics": [
                                     {"query": "sum(rate(http_requests_total[1m]))", "threshold": 100},
                                     {"query": "avg(queue_depth)", "threshold": 50},
                                     {"query": f'sum(rate(errors_total{{deployment="d-{i}"}}[1m]))',
                                      "threshold": 5}]}}})
        kubeconfig = str(emu.write_kubeconfig(Path(tmp) / "kubeconfig"))
        metrics_port = free_port()
        env = os.environ | {"DATABASE_URL": f"sqlite:///{tmp}/n.db", "KUBECONFIG": kubeconfig,
                            "METRICS_PORT": str(metrics_port), "HEALTH_CHECK_PORT": str(free_port()),
                            "LOG_LEVEL": "WARNING", "RECONCILE_INTERVAL": str(args.interval),
                            "NAUTILUS_DISABLE_PLUGINS": "eks,gke,aks,oda"}
        subprocess.run([sys.executable, "-m", "nautilus_core.cli", "db", "upgrade"], env=env, check=True,
                       capture_output=True)
        log = open(Path(tmp) / "operator.log", "w")  # noqa: SIM115
        started = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-m", "nautilus_core.cli", "controller", "run", "-r",
                                 "intelligent-scaling", "--no-leader-election"], env=env,
                                stdout=subprocess.DEVNULL, stderr=log)
        try:
            deadline = time.monotonic() + 300
            while sum(1 for o in emu.list(f"nautilus.io/{VERSION}", "intelligentscalings")
                      if (o.get("status") or {}).get("lastDecision")) < args.objects:
                if time.monotonic() > deadline:
                    raise SystemExit("timed out waiting for the first decisions")
                time.sleep(0.5)
            first = time.monotonic() - started
            time.sleep(2)
            q0, cpu0, t0 = Counting.count, cpu_seconds(proc.pid), time.monotonic()
            time.sleep(args.cycles * args.interval)
            queries = (Counting.count - q0) / args.cycles
            cpu = (cpu_seconds(proc.pid) - cpu0) / (time.monotonic() - t0)
            with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10) as answer:
                text = answer.read().decode()
            buckets = histogram(text, "controller_runtime_reconcile_time_seconds")
            rss = peak_rss_mb(proc.pid)
        finally:
            proc.terminate()
            proc.wait(timeout=60)
            log.close()
            server.shutdown()
    print(f"scaling benchmark: {args.objects} IntelligentScaling objects x 3 metrics "
          f"(2 shared queries + 1 each: {2 + args.objects} distinct), polling_interval={args.interval}s")
    print(f"  first decision for every object     {first:7.1f} s after start")
    print(f"  Prometheus requests per cycle       {queries:7.0f} (goal: {2 + args.objects}, one per distinct query;"
          f" {3 * args.objects} without sharing)")
    print(f"  decision (reconcile) latency         p50 <= {quantile(buckets, 0.5) * 1000:.0f} ms, "
          f"p99 <= {quantile(buckets, 0.99) * 1000:.0f} ms (histogram bucket bounds)")
    print(f"  operator CPU {cpu * 100:5.1f} % of a core; peak RSS {rss:.0f} MB (goal: under 150 MB)")


if __name__ == "__main__":
    main()
