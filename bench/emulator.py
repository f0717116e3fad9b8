"""Emulator benchmark: requests/s and latency of the emulated API server itself. Prints figures; asserts nothing.

The emulator runs in a child process (so the client's work and memory are not counted against it)
holding a generated cluster of 5,000 pods; the parent measures over raw HTTP: GET of one pod, a full
list of the 5,000 pods paged by 500 (requests/s of pages, lists/s, and the fetch+parse time of a full
list), POST of new pods (the write path: decoding, validation, defaults), and a watch fan-out
(100 watchers x 1,000 events). A second child loads 100,000 pods and reports its RSS.

Run: ``python -m bench.emulator [--pods 5000] [--big 100000] [--watchers 100] [--events 1000]``.
Compare two versions of the emulator by pointing PYTHONPATH at another checkout of ``src``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

import orjson
import urllib3


def serve(pods: int) -> None:
    """Child: an emulator holding ``pods`` generated pods; prints its URL and RSS, serves until stdin closes."""
    from nautilus_core.testing import KubeEmulator, populate

    namespaces = max(1, pods // 500)
    with KubeEmulator("bench", bookmark_interval=3600) as emu:
        started = time.perf_counter()
        populate(
            emu, namespaces=namespaces, pods_per_namespace=pods // namespaces, nodes=50, services=50, seed=7
        )
        load_s = time.perf_counter() - started
        print(json.dumps({"url": emu.url, "rss_mb": rss_mb(), "load_s": round(load_s, 2)}), flush=True)
        sys.stdin.read()


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def figures(name: str, latencies: list[float], total_s: float, unit: str = "req") -> dict[str, Any]:
    return {
        "name": name,
        f"{unit}/s": round(len(latencies) / total_s, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
    }


def timed(http: urllib3.PoolManager, method: str, url: str, body: bytes | None = None) -> tuple[float, bytes]:
    started = time.perf_counter()
    answer = http.request(method, url, body=body, headers={"Content-Type": "application/json"})
    elapsed = time.perf_counter() - started
    if answer.status >= 300:
        raise SystemExit(f"{method} {url} answered {answer.status}: {answer.data[:300]!r}")
    return elapsed, answer.data


def bench_get(
    http: urllib3.PoolManager, url: str, names: list[tuple[str, str]], count: int
) -> dict[str, Any]:
    latencies = []
    started = time.perf_counter()
    for i in range(count):
        namespace, name = names[i * 7919 % len(names)]
        latencies.append(timed(http, "GET", f"{url}/api/v1/namespaces/{namespace}/pods/{name}")[0])
    return figures("get pod", latencies, time.perf_counter() - started)


def bench_list(http: urllib3.PoolManager, url: str, rounds: int, page: int) -> list[dict[str, Any]]:
    pages: list[float] = []
    lists: list[float] = []
    parse_total = 0.0
    items = 0
    started = time.perf_counter()
    for _ in range(rounds):
        token, began = "", time.perf_counter()
        items = 0
        while True:
            query = f"limit={page}" + (f"&continue={token}" if token else "")
            elapsed, raw = timed(http, "GET", f"{url}/api/v1/pods?{query}")
            pages.append(elapsed)
            parsed_at = time.perf_counter()
            data = orjson.loads(raw)
            parse_total += time.perf_counter() - parsed_at
            items += len(data["items"])
            token = data["metadata"].get("continue", "")
            if not token:
                break
        lists.append(time.perf_counter() - began)
    total = time.perf_counter() - started
    return [
        figures(f"list page of {page}", pages, total),
        {
            **figures(f"full list of {items} pods (fetch+parse)", lists, total, unit="lists"),
            "parse_ms_per_list": round(parse_total / rounds * 1000, 1),
        },
    ]


def bench_create(http: urllib3.PoolManager, url: str, namespace: str, count: int) -> dict[str, Any]:
    latencies = []
    started = time.perf_counter()
    for i in range(count):
        body = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": f"bench-{i}", "labels": {"app": "bench", "shard": str(i % 10)}},
            "spec": {
                "containers": [
                    {
                        "name": "app",
                        "image": "example/app:1.0",
                        "ports": [{"containerPort": 8080}],
                        "resources": {"requests": {"cpu": "0.1", "memory": "128Mi"}},
                    }
                ]
            },
        }
        latencies.append(
            timed(http, "POST", f"{url}/api/v1/namespaces/{namespace}/pods", orjson.dumps(body))[0]
        )
    return figures("create pod", latencies, time.perf_counter() - started)


async def bench_watch(url: str, namespace: str, watchers: int, events: int) -> dict[str, Any]:
    import aiohttp

    start_rv = orjson.loads(
        urllib3.PoolManager().request("GET", f"{url}/api/v1/namespaces/{namespace}/configmaps").data
    )["metadata"]["resourceVersion"]
    done_at: list[float] = []
    connector = aiohttp.TCPConnector(limit=watchers + 4)
    async with aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=None)
    ) as session:

        async def watch() -> None:
            seen = 0
            query = f"watch=1&resourceVersion={start_rv}&timeoutSeconds=600"
            async with session.get(f"{url}/api/v1/namespaces/{namespace}/configmaps?{query}") as response:
                async for line in response.content:
                    if line.strip():
                        seen += 1
                        if seen >= events:
                            done_at.append(time.perf_counter())
                            return

        tasks = [asyncio.create_task(watch()) for _ in range(watchers)]
        await asyncio.sleep(1.0)  # let every watch start
        started = time.perf_counter()
        for i in range(events):
            body = orjson.dumps({"metadata": {"name": f"fan-{i}"}, "data": {"i": str(i)}})
            async with session.post(
                f"{url}/api/v1/namespaces/{namespace}/configmaps",
                data=body,
                headers={"Content-Type": "application/json"},
            ) as answer:
                await answer.read()
        written = time.perf_counter() - started
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=600)
    total = max(done_at) - started
    return {
        "name": f"watch fan-out {watchers} x {events}",
        "deliveries/s": round(watchers * events / total, 1),
        "writes_s": round(written, 2),
        "all_delivered_s": round(total, 2),
    }


def child(pods: int) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.emulator", "--serve", str(pods)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ | {"LOG_LEVEL": "WARNING"},
    )
    assert process.stdout is not None
    return process, json.loads(process.stdout.readline())


def stop(process: subprocess.Popen[str]) -> None:
    assert process.stdin is not None
    process.stdin.close()
    process.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--pods", type=int, default=5000, help="pods in the measured cluster")
    parser.add_argument("--big", type=int, default=100_000, help="pods in the cluster whose RSS is reported")
    parser.add_argument("--gets", type=int, default=3000)
    parser.add_argument("--lists", type=int, default=20, help="full paged lists")
    parser.add_argument("--creates", type=int, default=2000)
    parser.add_argument("--watchers", type=int, default=100)
    parser.add_argument("--events", type=int, default=1000)
    args = parser.parse_args()
    if args.serve is not None:
        serve(args.serve)
        return
    process, info = child(args.pods)
    results: list[dict[str, Any]] = [{"name": f"emulator with {args.pods} pods", **info}]
    try:
        url = info["url"]
        http = urllib3.PoolManager(maxsize=4)
        listed = orjson.loads(http.request("GET", f"{url}/api/v1/pods").data)["items"]
        names = [(p["metadata"]["namespace"], p["metadata"]["name"]) for p in listed]
        namespace = "default"  # exists (and is Active) in every version of the emulator
        results.append(bench_get(http, url, names, args.gets))
        results.extend(bench_list(http, url, args.lists, 500))
        results.append(bench_create(http, url, namespace, args.creates))
        results.append(asyncio.run(bench_watch(url, namespace, args.watchers, args.events)))
    finally:
        stop(process)
    big, big_info = child(args.big)
    stop(big)
    results.append({"name": f"emulator with {args.big} pods", **big_info})
    for row in results:
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
