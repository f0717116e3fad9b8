"""Cost of canonical quantities in the reconciler's hot path (prints figures, asserts nothing).

A steady-state resync validates every row and compares its StatefulSet with the live one; both now
parse quantities. Measures per call: ``parse_quantity``, ``manifests.validate`` of a row, and
``manifests.drift`` of an unchanged StatefulSet whose live resources are spelled canonically (the
common case, equal strings) and in another spelling (compared by value).
Run: ``python -m bench.quantity [--n N]``.
"""

from __future__ import annotations

import argparse
import copy
import time
from collections.abc import Callable

from nautilus_core.quantity import parse_quantity
from nautilus_core.reconcilers.statefulsets import manifests


def _per_call(fn: Callable[[], object], n: int) -> float:
    fn()
    started = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - started) / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=20000, help="calls per figure")
    n = parser.parse_args().n
    row = {"team": "payments", "name": "ledger", "engine": "postgres", "replicas": 3, "storage_size": "20Gi",
           "cpu": "0.5", "memory": "1024Mi", "extra_spec": {}}
    desired = manifests.validate(row, "team-")
    want = manifests.statefulset(desired)
    live_same = copy.deepcopy(want)
    live_other = copy.deepcopy(want)
    live_other["spec"]["template"]["spec"]["containers"][0]["resources"] = {
        "requests": {"cpu": "500m", "memory": "1073741824"}, "limits": {"memory": "1048576Ki"}}
    assert manifests.drift(want, live_same) == [] and manifests.drift(want, live_other) == []
    figures = {
        "parse_quantity('1.5Gi')": _per_call(lambda: parse_quantity("1.5Gi"), n),
        "validate(row with 3 quantities)": _per_call(lambda: manifests.validate(row, "team-"), n),
        "drift(unchanged, canonical live)": _per_call(lambda: manifests.drift(want, live_same), n),
        "drift(unchanged, other spelling)": _per_call(lambda: manifests.drift(want, live_other), n),
    }
    for name, micros in figures.items():
        print(f"{name:<36} {micros:8.2f} us/call")


if __name__ == "__main__":
    main()
