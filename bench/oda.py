"""ODA collector benchmark: 1,000 Components x 3 exposed APIs -> the fake seed Component Registry. Prints figures.

In one process: the Kubernetes API emulator with the plugin's CRDs, 1,000 v1beta3 Components (three
exposed APIs each) and their 3,000 ExposedAPIs (URL and readiness in status), the fake Component Registry
over HTTP, and the ``oda-components`` reconciler on the controller runtime (WORKER_COUNT workers).
Progress is read from the fake's tables (no extra HTTP calls). Figures:

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
import statistics
import time
from pathlib import Path
from typing import Any

import sqlalchemy
import yaml

from nautilus_core.config import load_settings
from nautilus_core.controller.runtime import ControllerRuntime
from nautilus_core.kube import RetryPolicy, connect
from nautilus_core.testing import KubeEmulator
from nautilus_oda.reconciler import NAME, OdaReconciler
from nautilus_oda.registry import build_registry
from nautilus_oda.settings import OdaSettings
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

        kubeconfig = emu.write_kubeconfig(Path(emu_tmp()) / "kubeconfig")
        oda = OdaSettings(component_registry_url=fake.url, component_registry_name=REGISTRY, kubernetes_namespace=NS,
                          sync_interval=args.sync_interval)
        settings = load_settings(reconcile_interval=args.sync_interval, metrics_port=0, health_check_port=0,
                                 worker_count=args.workers, log_level="WARNING")
        from nautilus_core.logs import configure_logging

        configure_logging("WARNING", "text")
        kube = connect(kubeconfig=str(kubeconfig), retry=RetryPolicy.off(), timeout=(2.0, 30.0))
        registry = build_registry(oda, retry=RetryPolicy.off())
        runtime = ControllerRuntime(settings=settings, engine=sqlalchemy.create_engine("sqlite://"), kube=kube,
                                    leader_election=False, watch_silence_timeout=60.0,
                                    reconcilers={NAME: lambda ctx: OdaReconciler(ctx, registry=registry, settings=oda)})
        rec = runtime.reconcilers[NAME]
        assert isinstance(rec, OdaReconciler)
        fake.reset_counts()
        t0 = time.perf_counter()
        runtime.start()
        want = (args.components, args.components * args.apis)
        while counts(fake) != want:
            time.sleep(0.01)
        first = time.perf_counter() - t0
        print(f"first full sync: {first:.2f} s for {want[0]} components / {want[1]} APIs; registry calls "
              f"{calls(fake)} (POST {fake.count('POST')}, PUT {fake.count('PUT')}, PATCH {fake.count('PATCH')})",
              flush=True)

        done = rec.full_syncs
        while rec.full_syncs < done + 1:
            time.sleep(0.05)
        for n in range(2):
            fake.reset_counts()
            done = rec.full_syncs
            t = time.perf_counter()
            while rec.full_syncs < done + 1:
                time.sleep(0.01)
            print(f"unchanged resync #{n + 1}: registry calls {calls(fake)} "
                  f"(full sync compared {args.components} components in {time.perf_counter() - t:.2f} s "
                  "including the wait for its turn)", flush=True)

        ids = {}
        with fake._lock:
            for rid, row in fake.tables["components"].items():
                ids[row["name"]] = rid
        latencies = []
        fake.reset_counts()
        for n in range(args.changes):
            name = f"comp-{(n * 7919) % args.components:04d}"
            new = f"2.{n}.0"
            t = time.perf_counter()
            emu.patch(GROUP, "components", name, {"spec": {"version": new}}, namespace=NS)
            while version_of(fake, ids[name]) != new:
                time.sleep(0.001)
            latencies.append(time.perf_counter() - t)
        latencies.sort()
        p50 = statistics.median(latencies)
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        print(f"Component change -> registry update: p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, "
              f"max {latencies[-1] * 1000:.1f} ms over {len(latencies)} changes; registry calls "
              f"{calls(fake)} ({(fake.reads + fake.writes) / max(1, len(latencies)):.1f} per change)", flush=True)
        runtime.stop()
        kube.close()


def emu_tmp() -> str:
    import tempfile

    return tempfile.mkdtemp(prefix="bench-oda-")


if __name__ == "__main__":
    main()
