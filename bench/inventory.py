"""Inventory benchmark: an emulated fleet (default 20 clusters x 5,000 pods, 50 nodes, 200 services
each) synced into SQLite and PostgreSQL. Prints figures; asserts nothing.

For each database it measures, in fresh child processes (so peak RSS is the sync's own, not the
emulator's): the first sync, an unchanged resync, and the floors measured in the same run: fetching
the same JSON pages and parsing them (``fetch+parse``), and that plus one bulk insert of the same
rows (``fetch+parse+insert``).

Run: ``python -m bench.inventory [--clusters 20] [--pods 5000] [--postgres URL]``.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from nautilus_core.db import make_engine
from nautilus_core.testing import EmulatedFleet, FleetSpec, populate


def child(*args: str) -> dict:
    out = subprocess.run([sys.executable, "-m", "bench.inventory_child", *args], capture_output=True, text=True,
                         check=False, env=os.environ | {"LOG_LEVEL": "WARNING", "NAUTILUS_KUBE_RETRIES": "1"})
    if out.returncode != 0:
        raise SystemExit(f"child {args} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def fresh_postgres(admin: str) -> str:
    name = f"nautilus_bench_{secrets.token_hex(4)}"
    engine = make_engine(admin, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine.dispose()
    return make_url(admin).set(database=name).render_as_string(hide_password=False)


def drop_postgres(admin: str, url: str) -> None:
    engine = make_engine(admin, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=20)
    parser.add_argument("--pods", type=int, default=5000, help="pods per cluster")
    parser.add_argument("--nodes", type=int, default=50)
    parser.add_argument("--services", type=int, default=200)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    namespaces = 20
    spec = FleetSpec(namespaces=namespaces, pods_per_namespace=args.pods // namespaces, nodes=args.nodes,
                     services=args.services, logs=False, events=False)
    names = [f"bench-{i:02d}" for i in range(args.clusters)]
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="nautilus-bench-") as tmp, EmulatedFleet(names) as fleet:
        for i, name in enumerate(names):
            populate(fleet[name], spec.__class__(**{**spec.__dict__, "seed": i}))
        kubeconfig = str(fleet.write_kubeconfig(Path(tmp) / "kubeconfig"))
        print(f"fleet: {args.clusters} clusters x {spec.namespaces * spec.pods_per_namespace} pods, "
              f"{args.nodes} nodes, {args.services} services each; populated in {time.monotonic() - started:.1f}s")
        backends = [("sqlite", f"sqlite:///{tmp}/bench.db")]
        if not args.skip_postgres:
            backends.append(("postgresql", fresh_postgres(args.postgres)))
        rows = []
        for backend, url in backends:
            try:
                floor_fetch = child("fetch", kubeconfig)
                floor_insert = child("fetch-insert", kubeconfig, url + ("_floor" if backend == "sqlite" else ""))
                first = child("sync", kubeconfig, url)
                resync = child("sync", kubeconfig, url)
            finally:
                if backend == "postgresql":
                    drop_postgres(args.postgres, url)
            rows.append((backend, floor_fetch, floor_insert, first, resync))
    print(f"\n{'database':<11}{'measure':<24}{'wall s':>8}{'peak RSS MB':>13}{'vs floor':>10}")
    for backend, floor_fetch, floor_insert, first, resync in rows:
        for label, fig, ref in (("fetch+parse floor", floor_fetch, None),
                                ("fetch+parse+insert floor", floor_insert, None),
                                ("first sync", first, floor_insert), ("unchanged resync", resync, floor_fetch)):
            ratio = f"{fig['wall'] / ref['wall']:.2f}x" if ref else ""
            print(f"{backend:<11}{label:<24}{fig['wall']:>8.2f}{fig['peak_rss_mb']:>13.0f}{ratio:>10}")
        print(f"{'':<11}first sync wrote {first.get('written')}, resync wrote {resync.get('written')}")


if __name__ == "__main__":
    main()
