"""Cost of pod triage and log classification at the collector's scale (prints figures, asserts nothing).

The collector parses, per run, the logs of 2,000 pods x 2 containers x 200 lines (800,000 lines) and
triages the 2,000 pods. This builds that much log text with the fleet generator's log writer (plain,
logfmt and JSON lines; a Python traceback or Java exception in failing containers), prefixed with the
kubelet's RFC 3339 timestamps as ``?timestamps=true`` returns them, and the fleet generator's pods with their
Events, then measures ``parse_log`` (with and without secret masking, and on text full of secrets) and
``triage``: wall time, CPU time, microseconds per line / per pod, lines per second.
Run: ``python -m bench.triage [--pods 2000] [--lines 200] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import random
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from nautilus_core.podwatch.logparse import parse_log
from nautilus_core.podwatch.triage import triage
from nautilus_core.testing.fleet import FleetSpec, generate
from nautilus_core.testing.fleet_logs import container_log

SECRETS = ("login password=hunter2 user=app", "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.abcdefgh",
           "dsn=postgresql://app:s3cr3t@db:5432/app", "key AKIAIOSFODNN7EXAMPLE", "token=abcdef0123456789")


def _logs(containers: int, lines: int, seed: int, secrets: bool) -> list[str]:
    rng = random.Random(seed)
    start = datetime(2026, 6, 1, tzinfo=UTC)
    out = []
    for i in range(containers):
        text = container_log(rng, f"ns-{i % 7}", lines, failing=i % 10 == 0, java=i % 2 == 0, oom=i % 40 == 0)
        body = text.splitlines()
        if secrets:
            body = [f"{line} {SECRETS[j % len(SECRETS)]}" if j % 10 == 0 else line for j, line in enumerate(body)]
        out.append("".join(f"{(start + timedelta(milliseconds=j)).strftime('%Y-%m-%dT%H:%M:%S.%f')}000Z {line}\n"
                           for j, line in enumerate(body)))
    return out


def _measure(fn: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """Best wall and CPU seconds of ``repeat`` runs."""
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pods", type=int, default=2000, help="pods (2 containers each)")
    parser.add_argument("--lines", type=int, default=200, help="log lines per container")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (the best is printed)")
    args = parser.parse_args()
    containers = args.pods * 2
    plain = _logs(containers, args.lines, 0, secrets=False)
    secret = _logs(containers // 10, args.lines, 1, secrets=True)
    lines = sum(text.count("\n") for text in plain)
    secret_lines = sum(text.count("\n") for text in secret)
    print(f"logs: {containers} containers, {lines} lines, {sum(map(len, plain)) / 1e6:.1f} MB")
    for name, texts, count, mask in (("parse_log, masking on", plain, lines, True),
                                     ("parse_log, masking off", plain, lines, False),
                                     ("parse_log, 10% lines with secrets", secret, secret_lines, True)):
        def run_parse(texts: list[str] = texts, mask: bool = mask) -> None:
            for text in texts:  # the collector keeps one container's entries at a time
                parse_log(text, mask=mask)

        wall, cpu = _measure(run_parse, args.repeat)
        print(f"{name:<36} wall {wall:6.2f} s  cpu {cpu:6.2f} s  {cpu / count * 1e6:5.2f} us/line (cpu)  "
              f"{count / cpu / 1e3:6.0f}k lines/s (cpu)")

    now = time.time()
    objects, _, _ = generate(FleetSpec(namespaces=max(1, args.pods // 500), pods_per_namespace=min(500, args.pods),
                                       logs=False), now=now)
    pods = [obj for obj in objects if obj["kind"] == "Pod"]
    events: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for obj in objects:
        if obj["kind"] == "Event":
            events[(obj["involvedObject"]["namespace"], obj["involvedObject"]["name"])].append(obj)
    clock = datetime.fromtimestamp(now, UTC)

    def run() -> None:
        for body in pods:
            meta = body["metadata"]
            triage(body, events.get((meta["namespace"], meta["name"]), ()), now=clock)

    wall, cpu = _measure(run, args.repeat)
    print(f"{'triage':<36} wall {wall:6.2f} s  cpu {cpu:6.2f} s  {cpu / len(pods) * 1e6:5.1f} us/pod (cpu)  "
          f"{len(pods)} pods")


if __name__ == "__main__":
    main()
