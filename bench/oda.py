"""ODA collector benchmark: 1,000 Components x 3 exposed APIs -> the fake seed Component Registry. Prints figures.

This process serves the Kubernetes API emulator with the plugin's CRDs, 1,000 v1beta3 Components (three
exposed APIs each) and their 3,000 ExposedAPIs (URL and readiness in status), and the fake Component
Registry over HTTP; the collector is ``nautilus oda run`` in a child process (its own interpreter, as
deployed). Progress is read from the fake's tables (no extra HTTP calls), full syncs from the collector's
``/metrics``. Figures:

- first full sync: wall time from the runtime's start until the registry holds every component and API,
  and the registry calls it took (reads / writes);
- unchanged resync: registry calls of each full sync of an unchanged fleet (goal: zero writes; the reads
  are the pages ``list_owned`` needs);
- Component change -> registry update: a Component's ``spec.version`` patched until the registry's label
  shows it, p50 / p99 over ``--changes`` changes, one at a time.

Run: ``python -m bench.oda [--components 1000] [--apis 3] [--changes 100] [--sync-interval 10]``.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from nautilus_core.testing import KubeEmulator
from nautilus_oda.testing.component_registry import FakeComponentRegistry

CRDS = Path(__file__).resolve().parents[1] / "plugins" / "oda" / "src" / "nautilus_oda" / "crds"
NS, REGISTRY, GROUP = "components", "bench-registry", "oda.tmforum.org/v1beta3"
API_NAMES = ("productcatalogmanagement", "productinventory", "promotionmanagement", "partymanagement",
             "customermanagement")


def component(i: int, apis: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    name = f"comp-{i:04d}"
    exposed = [{"name": API_NAMES[j % len(API_NAMES)] + (str(j) if j >= len(API_NAMES) else ""),
                "apiType": "openapi", "implementation": f"{name}-svc-{j}", "path": f"/{name}/api{j}/v4",
                "port": 8080, "specification": [f"https://example.org/oas/{j}.json"]} for j in range(apis)]
    obj = {"apiVersion": GROUP, "kind": "Component",
           "metadata": {"name": name, "namespace": NS, "labels": {"oda.tmforum.org/componentName": name}},
           "spec": {"version": "1.0.0", "functionalBlock": "CoreCommerce", "coreFunction": {"exposedAPIs": exposed}}}
    crs = [{"apiVersion": GROUP, "kind": "ExposedAPI",
            "metadata": {"name": f"{name}-{a['name']}", "namespace": NS,
                         "labels": {"oda.tmforum.org/componentName": name}},
            "spec": {k: a[k] for k in ("name", "apiType", "implementation", "path", "port", "specification")},
            "status": {"apiStatus": {"url": f"https://gw.example.org{a['path']}"}, "implementation": {"ready": True}}}
           for a in exposed]
    return obj, crs


def counts(fake: FakeComponentRegistry) -> tuple[int, int]:
    with fake._lock:
        return len(fake.tables["components"]), len(fake.tables["exposed-apis"])


def version_of(fake: FakeComponentRegistry, component_id: int) -> str | None:
    with fake._lock:
        labels = fake.tables["labels"]
        for lid in fake.links["components"].get(component_id, ()):
            if lid in labels and labels[lid]["key"] == "version":
                return str(labels[lid]["value"])
    return None


def calls(fake: FakeComponentRegistry) -> str:
    return f"{fake.reads} reads + {fake.writes} writes"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--components", type=int, default=1000)
    parser.add_argument("--apis", type=int, default=3)
    parser.add_argument("--changes", type=int, default=100)
    parser.add_argument("--sync-interval", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=5)
    args = parser.parse_args()

    with KubeEmulator("bench") as emu, FakeComponentRegistry() as fake:
        for path in sorted(CRDS.glob("*.yaml")):
            emu.create(yaml.safe_load(path.read_text()))
        emu.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
        time.sleep(0.5)  # discovery serves the new resources
        started = time.perf_counter()
        for i in range(args.components):
            obj, crs = component(i, args.apis)
            emu.create(obj)
            for cr in crs:
                status = cr.pop("status")
                emu.create(cr)
                emu.patch(GROUP, "exposedapis", cr["metadata"]["name"], {"status": status}, namespace=NS)
        print(f"emulator: {args.components} Components + {args.components * args.apis} ExposedAPIs created "
              f"in {time.perf_counter() - started:.1f} s", flush=True)

        home = Path(tempfile.mkdtemp(prefix="bench-oda-"))
        kubeconfig = emu.write_kubeconfig(home / "kubeconfig")
        port = free_port()
        env = {**os.environ, "KUBECONFIG": str(kubeconfig), "NAUTILUS_HOME": str(home),
               "COMPONENT_REGISTRY_URL": fake.url, "COMPONENT_REGISTRY_NAME": REGISTRY, "KUBERNETES_NAMESPACE": NS,
               "SYNC_INTERVAL": f"{args.sync_interval}s", "RECONCILE_INTERVAL": f"{args.sync_interval}s",
               "WORKER_COUNT": str(args.workers), "MONITORING_PORT": str(port), "LOG_LEVEL": "WARNING"}
        fake.reset_counts()
        t0 = time.perf_counter()
        cpu0 = sum(os.times()[:2])
        proc = subprocess.Popen([sys.executable, "-m", "nautilus_core.cli", "oda", "run", "--no-leader-election"],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            want = (args.components, args.components * args.apis)
            while counts(fake) != want:
                if proc.poll() is not None:
                    raise SystemExit(f"the collector exited: {proc.stderr.read() if proc.stderr else ''}")
                time.sleep(0.01)
            first = time.perf_counter() - t0
            print(f"  collector CPU {cpu_seconds(proc.pid):.1f} s, this process (emulator + fake registry) CPU "
                  f"{sum(os.times()[:2]) - cpu0:.1f} s", flush=True)
            print(f"first full sync: {first:.2f} s from `nautilus oda run` starting (process start included) to "
                  f"{want[0]} components / {want[1]} APIs in the registry; registry calls {calls(fake)} "
                  f"(POST {fake.count('POST')}: labels {fake.count('POST', '/labels')}, components "
                  f"{fake.count('POST', '/components')}, APIs {fake.count('POST', '/exposed-apis')}; "
                  f"PUT {fake.count('PUT')}, PATCH {fake.count('PATCH')})", flush=True)

            syncs = wait_full_syncs(port, 1)  # the start's full sync has compared everything
            fake.reset_counts()
            t = time.perf_counter()
            after = wait_full_syncs(port, syncs + 3)
            n = after - syncs
            print(f"unchanged resync: {n} full syncs in {time.perf_counter() - t:.1f} s; registry calls "
                  f"{calls(fake)} in all ({fake.reads / n:.1f} reads, {fake.writes / n:.1f} writes per full sync)",
                  flush=True)

            ids = {}
            with fake._lock:
                for rid, row in fake.tables["components"].items():
                    ids[row["name"]] = rid
            latencies = []
            fake.reset_counts()
            for i in range(args.changes):
                name = f"comp-{(i * 7919) % args.components:04d}"
                new = f"2.{i}.0"
                t = time.perf_counter()
                emu.patch(GROUP, "components", name, {"spec": {"version": new}}, namespace=NS)
                while version_of(fake, ids[name]) != new:
                    time.sleep(0.001)
                latencies.append(time.perf_counter() - t)
            latencies.sort()
            p50 = statistics.median(latencies)
            p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
            print(f"Component change -> registry update: p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, "
                  f"max {latencies[-1] * 1000:.1f} ms over {len(latencies)} changes (full syncs every "
                  f"{args.sync_interval:g} s meanwhile); registry calls {calls(fake)} "
                  f"({(fake.reads + fake.writes) / max(1, len(latencies)):.1f} per change)", flush=True)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
        print(f"collector exit code on SIGTERM: {proc.returncode}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of process ``pid`` so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def full_syncs(port: int) -> int:
    """Completed full syncs, from the collector's own /metrics."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
            body = answer.read().decode()
    except OSError:
        return 0
    for line in body.splitlines():
        if line.startswith('oda_collector_sync_duration_seconds_count{kind="full"}'):
            return int(float(line.split()[-1]))
    return 0


def wait_full_syncs(port: int, at_least: int) -> int:
    while (n := full_syncs(port)) < at_least:
        time.sleep(0.2)
    return n


if __name__ == "__main__":
    main()
