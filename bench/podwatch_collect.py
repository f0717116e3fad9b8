"""Pod triage collector benchmark: one namespace of 2,000 pods x 2 containers x 200 log lines (defaults)
collected into SQLite and PostgreSQL, beside the floor measured in the same run. Prints figures;
asserts nothing.

The emulator runs in this process; every measure runs in a fresh child process (so wall time and peak
RSS are its own): the floor (``fetch+parse``: the same paged pod list, the same log calls with the same
concurrency, each answer classified by ``parse_log``, no database), the first collection into an empty
database, and an unchanged recollection. Goal: the first collection within 1.5x of the floor.

Run: ``python -m bench.podwatch_collect [--pods 2000] [--lines 200] [--concurrency 16] [--postgres URL]``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

NAMESPACE = "bench"
_LEVELS = ("INFO", "INFO", "INFO", "INFO", "INFO", "INFO", "WARN", "ERROR")


def peak_rss_mb() -> float:
    """VmHWM of this process (ru_maxrss would include the parent's pages from before exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _pod(i: int, now: str) -> dict[str, Any]:
    name = f"app-{i // 10:04d}-{i:05d}"
    containers = [{"name": c, "image": f"registry.example/{c}:1.{i % 7}", "resources": {}} for c in ("app", "proxy")]
    statuses = [{"name": c["name"], "image": c["image"], "imageID": "", "ready": True, "restartCount": 0,
                 "started": True, "containerID": f"containerd://{i:08x}{n}",
                 "state": {"running": {"startedAt": now}}} for n, c in enumerate(containers)]
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": NAMESPACE, "uid": f"uid-{i:08d}", "creationTimestamp": now,
                         "labels": {"app": f"app-{i // 10:04d}", "tier": "web"},
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": f"app-{i // 10}",
                                              "uid": f"rs-{i // 10}", "controller": True}]},
            "spec": {"nodeName": f"node-{i % 20}", "containers": containers},
            "status": {"phase": "Running", "podIP": f"10.0.{i // 250}.{i % 250}", "hostIP": "10.1.0.1",
                       "startTime": now, "containerStatuses": statuses,
                       "conditions": [{"type": t, "status": "True", "lastTransitionTime": now}
                                      for t in ("PodScheduled", "Initialized", "ContainersReady", "Ready")]}}


def _log(rng: random.Random, lines: int) -> str:
    out = []
    for n in range(lines):
        level = rng.choice(_LEVELS)
        out.append(f"{level} request {n} path=/api/v1/orders/{rng.randint(1, 10 ** 6)} status="
                   f"{500 if level == 'ERROR' else 200} duration_ms={rng.randint(1, 900)}")
    return "\n".join(out) + "\n"


def populate(emu: Any, pods: int, lines: int) -> None:
    rng = random.Random(7)
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 3600))
    emu.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
    emu.load([_pod(i, now) for i in range(pods)])
    for i in range(pods):
        name = f"app-{i // 10:04d}-{i:05d}"
        for container in ("app", "proxy"):
            emu.set_logs(NAMESPACE, name, container, _log(rng, lines))


# --------------------------------------------------------------------------- children


def floor(kubeconfig: str, tail: int, concurrency: int) -> dict[str, Any]:
    from nautilus_core.kube import connect
    from nautilus_core.podwatch.fetch import LogFetcher, list_scope, log_requests
    from nautilus_core.podwatch.logparse import parse_log

    started = time.monotonic()
    kube = connect(kubeconfig=kubeconfig)
    listing = list_scope(kube, NAMESPACE)
    requests = [r for pod in listing.pods for r in log_requests(pod)]
    entries = 0
    with LogFetcher(kube, tail_lines=tail, concurrency=concurrency,
                    parse=lambda request, text: parse_log(text, timestamps=True, mask=True)) as fetcher:
        for future in fetcher.submit(requests):
            entries += len(future.result().parsed)
    kube.close()
    return {"wall": time.monotonic() - started, "peak_rss_mb": peak_rss_mb(), "pods": len(listing.pods),
            "logs": entries}


def collect(kubeconfig: str, url: str, tail: int, concurrency: int) -> dict[str, Any]:
    from nautilus_core.db import make_engine, upgrade
    from nautilus_core.inventory.providers import KubeconfigProvider
    from nautilus_core.podwatch.collect import Collector
    from nautilus_core.podwatch.settings import PodwatchSettings

    engine = make_engine(url)
    upgrade(engine)
    settings = PodwatchSettings(target_namespace=[NAMESPACE], log_tail_lines=tail, log_concurrency=concurrency)
    collector = Collector(engine, {"kubeconfig": KubeconfigProvider(kubeconfig)}, settings)
    started = time.monotonic()
    report = collector.run_once()
    wall = time.monotonic() - started
    engine.dispose()
    if report.failures:
        raise SystemExit(f"collection failed: {report.failures}")
    return {"wall": wall, "peak_rss_mb": peak_rss_mb(), "line": report.lines()[0], "writes": report.writes}


def child(*args: str) -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-m", "bench.podwatch_collect", "--child", *args], capture_output=True,
                         text=True, check=False, env=os.environ | {"LOG_LEVEL": "WARNING",
                                                                   "NAUTILUS_KUBE_RETRIES": "1"})
    if out.returncode != 0:
        raise SystemExit(f"child {args} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=2000)
    parser.add_argument("--lines", type=int, default=200, help="log lines per container (and LOG_TAIL_LINES)")
    parser.add_argument("--concurrency", type=int, default=16, help="log calls in flight (PODWATCH_LOG_CONCURRENCY)")
    parser.add_argument("--postgres", default=os.environ.get("NAUTILUS_TEST_POSTGRES_URL",
                                                             "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, *rest = args.child
        result = floor(rest[0], int(rest[1]), int(rest[2])) if mode == "floor" else collect(
            rest[0], rest[1], int(rest[2]), int(rest[3]))
        print(json.dumps(result))
        return
    from bench.inventory import drop_postgres, fresh_postgres
    from nautilus_core.testing import KubeEmulator

    started = time.monotonic()
    tail, conc = str(args.lines), str(args.concurrency)
    with tempfile.TemporaryDirectory(prefix="nautilus-bench-") as tmp, KubeEmulator("bench") as emu:
        populate(emu, args.pods, args.lines)
        kubeconfig = str(emu.write_kubeconfig(Path(tmp) / "kubeconfig"))
        print(f"namespace {NAMESPACE}: {args.pods} pods x 2 containers x {args.lines} log lines; "
              f"populated in {time.monotonic() - started:.1f}s; log concurrency {args.concurrency}")
        backends = [("sqlite", f"sqlite:///{tmp}/bench.db")]
        if not args.skip_postgres:
            backends.append(("postgresql", fresh_postgres(args.postgres)))
        results = []
        for backend, url in backends:
            try:
                base = child("floor", kubeconfig, tail, conc)
                first = child("collect", kubeconfig, url, tail, conc)
                again = child("collect", kubeconfig, url, tail, conc)
            finally:
                if backend == "postgresql":
                    drop_postgres(args.postgres, url)
            results.append((backend, base, first, again))
    print(f"\n{'database':<11}{'measure':<26}{'wall s':>8}{'peak RSS MB':>13}{'vs floor':>10}")
    for backend, base, first, again in results:
        for label, fig in (("fetch+parse floor", base), ("first collection", first),
                           ("unchanged recollection", again)):
            ratio = "" if fig is base else f"{fig['wall'] / base['wall']:.2f}x"
            print(f"{backend:<11}{label:<26}{fig['wall']:>8.2f}{fig['peak_rss_mb']:>13.0f}{ratio:>10}")
        print(f"{'':<11}floor parsed {base['logs']} entries of {base['pods']} pods; {first['line']}; "
              f"rows written: first {first['writes']}, recollection {again['writes']}")


if __name__ == "__main__":
    main()
