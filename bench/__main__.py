"""``python -m bench [NAME ...]``: run the benchmarks (all by default) and print their figures.

NAME is one of ``upsert``, ``inventory``, ``controller``, ``emulator``, ``quantity``, ``scaling``, ``oda``,
``podwatch_collect``, ``podwatch_web``, ``triage``; each runs alone as ``python -m bench.NAME``.
"""

from __future__ import annotations

import subprocess
import sys

BENCHES = ("upsert", "inventory", "controller", "emulator", "quantity", "scaling", "oda", "podwatch_collect",
           "podwatch_web", "triage")


def main() -> int:
    names = sys.argv[1:] or list(BENCHES)
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        print(f"unknown benchmark {', '.join(unknown)}; one of {', '.join(BENCHES)}", file=sys.stderr)
        return 2
    code = 0
    for name in names:
        print(f"== bench.{name}", flush=True)
        code |= subprocess.call([sys.executable, "-m", f"bench.{name}"])
    return code


if __name__ == "__main__":
    sys.exit(main())
