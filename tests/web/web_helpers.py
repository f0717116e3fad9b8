"""Helpers of the dashboard tests: a triage data set in the database, and the app served over HTTP.

``triage_rows(engine)`` inserts (through the models' tables, as the collector would write them) two
clusters with pods in every health bucket, containers, Events and classified log lines, including
hostile ones (``<script>``, ``<img onerror>``); ``serve_app(engine, options)`` runs the real app as a
:class:`~nautilus_core.web.WebServer` runnable on 127.0.0.1 (port 0) and yields its URL. Every test
using ``engine`` runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert, select

from nautilus_core.controller.manager import Runnables
from nautilus_core.db import Cluster, Container, LogLine, Pod, PodEvent
from nautilus_core.testing import until
from nautilus_core.web import WebOptions, WebServer, create_app

CHROMIUM = "/usr/bin/chromium"
HOSTILE_SCRIPT = "<script>window.__pwned = 'script'</script> request failed"
HOSTILE_IMG = "<img src=x onerror=\"window.__pwned='img'\"> upstream said no"


@dataclass
class Triage:
    """What ``triage_rows`` wrote: pod ids by name, cluster ids by name."""

    pods: dict[str, int] = field(default_factory=dict)
    clusters: dict[str, int] = field(default_factory=dict)
    now: datetime = field(default_factory=lambda: datetime.now(UTC))


POD_ROWS: list[dict[str, Any]] = [
    # name, cluster, namespace, health, attention, status, top (container, reason, message, hint)
    dict(name="api-7c9-crash", cluster="prod-eu", namespace="shop", health="failing", attention=9400,
         status="CrashLoopBackOff", ready="0/1", restarts=12, restarts_text="12 (40s ago)",
         top=("api", "CrashLoopBackOff", "back-off 5m0s restarting failed container",
              "the process exits: read its logs"),
         counts=dict(error_count=4, warning_count=1, exception_count=1)),
    dict(name="worker-oom", cluster="prod-eu", namespace="shop", health="failing", attention=9300,
         status="CrashLoopBackOff", ready="0/1", restarts=4, restarts_text="4 (2m ago)",
         top=("worker", "OOMKilled", "exit code 137", "raise the memory limit or find the leak")),
    dict(name="web-pull", cluster="prod-us", namespace="web", health="failing", attention=9200,
         status="ImagePullBackOff", ready="0/1", restarts=0, restarts_text="0",
         top=("web", "ImagePullBackOff", 'Back-off pulling image "registry.local/web:nope"', "check the image name")),
    dict(name="db-stuck", cluster="prod-eu", namespace="data", health="degraded", attention=6100,
         status="ContainerCreating", ready="0/1", restarts=0, restarts_text="0", age=3600,
         top=(None, "ContainerCreating", "stuck for 1h", "look at the pod's Events (FailedMount?)")),
    dict(name="cache-unready", cluster="prod-us", namespace="web", health="degraded", attention=6000,
         status="Running", ready="0/1", restarts=0, restarts_text="0",
         top=("cache", "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503", None)),
    dict(name="db-new", cluster="prod-eu", namespace="data", health="initializing", attention=3000,
         status="ContainerCreating", ready="0/1", restarts=0, restarts_text="0", age=20, top=None),
    *[dict(name=f"shop-{i:02d}", cluster="prod-eu", namespace="shop", health="healthy", attention=100 + i,
           status="Running", ready="1/1", restarts=0, restarts_text="0", top=None) for i in range(12)],
    dict(name="migrate-done", cluster="prod-us", namespace="web", health="completed", attention=10,
         status="Completed", ready="0/1", restarts=0, restarts_text="0", top=None),
    dict(name="old-crash-gone", cluster="prod-us", namespace="web", health="failing", attention=9900,
         status="CrashLoopBackOff", ready="0/1", restarts=30, restarts_text="30 (1h ago)", gone=True,
         top=("old", "CrashLoopBackOff", "back-off restarting failed container", None)),
    dict(name="100%_literal", cluster="prod-us", namespace="web", health="healthy", attention=50,
         status="Running", ready="1/1", restarts=0, restarts_text="0", top=None, owner=("Job", "nightly")),
]


def triage_rows(engine: Any, extra_healthy: int = 0) -> Triage:
    """Insert the triage data set (and ``extra_healthy`` more healthy pods); returns the ids."""
    out = Triage()
    now = out.now
    with engine.begin() as conn:
        for name in ("prod-eu", "prod-us"):
            out.clusters[name] = conn.execute(insert(Cluster.__table__).values(  # type: ignore[attr-defined]
                key=f"kubeconfig///{name}", provider="kubeconfig", name=name)).inserted_primary_key[0]
        extra = [dict(name=f"filler-{i:03d}", cluster="prod-eu", namespace="batch", health="healthy", attention=1,
                      status="Running", ready="1/1", restarts=0, restarts_text="0", top=None)
                 for i in range(extra_healthy)]
        for spec in POD_ROWS + extra:
            top = spec.get("top")
            owner = spec.get("owner", ("ReplicaSet", spec["name"].rsplit("-", 1)[0] + "-5d8f"))
            values = dict(
                cluster_id=out.clusters[spec["cluster"]], namespace=spec["namespace"], name=spec["name"],
                uid=f"uid-{spec['name']}", phase="Running", status=spec["status"], ready=spec["ready"],
                restarts=spec["restarts"], restarts_text=spec["restarts_text"], health=spec["health"],
                attention=spec["attention"], node="node-1", owner_kind=owner[0], owner_name=owner[1],
                created_at=now - timedelta(seconds=spec.get("age", 86400)),
                first_seen_at=now - timedelta(hours=2), last_seen_at=now,
                deleted_at=now - timedelta(minutes=5) if spec.get("gone") else None,
                labels={"app": spec["name"].split("-")[0]},
            )
            values.update(spec.get("counts", {}))
            if top:
                values.update(top_container=top[0], top_reason=top[1], top_message=top[2], top_hint=top[3])
            out.pods[spec["name"]] = conn.execute(insert(Pod.__table__).values(**values)  # type: ignore[attr-defined]
                                                  ).inserted_primary_key[0]
        crash = out.pods["api-7c9-crash"]
        for row in [
            dict(pod_id=crash, name="migrate", init=True, image="registry.local/migrate:1", ready=True,
                 state="terminated", reason="Completed", exit_code=0, restart_count=0),
            dict(pod_id=crash, name="api", init=False, image="registry.local/api:2.3", ready=False, state="waiting",
                 reason="CrashLoopBackOff", message="back-off 5m0s restarting failed container", restart_count=12,
                 last_reason="Error", last_exit_code=1, last_finished_at=now - timedelta(seconds=40),
                 error_count=3, exception_count=1, warning_count=1),
            dict(pod_id=crash, name="sidecar", init=False, image="envoy:1.30", ready=True, state="running",
                 restart_count=0, warning_count=0, log_error="log call failed: 500"),
        ]:
            conn.execute(insert(Container.__table__).values(**row))  # type: ignore[attr-defined]
        conn.execute(insert(PodEvent.__table__), [  # type: ignore[attr-defined]
            dict(pod_id=crash, uid="ev-1", type="Warning", reason="BackOff", count=31,
                 message="Back-off restarting failed container api", first_at=now - timedelta(hours=1),
                 last_at=now - timedelta(seconds=40), source="kubelet"),
            dict(pod_id=crash, uid="ev-3", type="Warning", reason="<b>Unhealthy</b>", count=2, message=HOSTILE_IMG,
                 first_at=now - timedelta(hours=2), last_at=now - timedelta(hours=2), source="kubelet"),
            dict(pod_id=crash, uid="ev-2", type="Normal", reason="Pulled", count=12, message="Container image pulled",
                 first_at=now - timedelta(hours=1), last_at=now - timedelta(minutes=10), source="kubelet"),
        ])
        lines = [
            ("api", "info", "starting api on :8080"),
            ("api", "warning", "WARN cache miss ratio high"),
            ("api", "error", "ERROR connection refused to db:5432"),
            ("api", "error", HOSTILE_SCRIPT),
            ("api", "error", HOSTILE_IMG),
            ("api", "exception", 'Traceback (most recent call last):\n  File "app.py", line 3\nValueError: boom'),
            ("sidecar", "info", "envoy ready"),
            ("sidecar", "info", "upstream healthy"),
        ]
        conn.execute(insert(LogLine.__table__), [  # type: ignore[attr-defined]
            dict(pod_id=crash, container=c, previous=False, ts=now - timedelta(seconds=60 - i), seq=i, level=lv,
                 text=t, fingerprint=f"fp-{i}") for i, (c, lv, t) in enumerate(lines)
        ] + [dict(pod_id=crash, container="api", previous=True, ts=now - timedelta(minutes=5), seq=0, level="error",
                  text="ERROR previous instance died", fingerprint="fp-prev")])
        gone = out.pods["old-crash-gone"]
        conn.execute(insert(LogLine.__table__).values(  # type: ignore[attr-defined]
            pod_id=gone, container="old", seq=0, level="error", text="ERROR last words", fingerprint="g"))
        assert conn.execute(select(Pod.__table__.c.id)).first() is not None  # type: ignore[attr-defined]
    return out


@contextlib.contextmanager
def serve_app(engine: Any, options: WebOptions | None = None, **kwargs: Any) -> Iterator[str]:
    """The app on 127.0.0.1:<free port> as a runnable of a manager; yields the base URL."""
    group = Runnables()
    server = WebServer(create_app(engine, options or WebOptions(), health=group.health, **kwargs), port=0)
    server.bind()
    group.add(server)
    group.start()
    try:
        until(lambda: httpx.get(server.url + "/healthz", timeout=2).status_code in (200, 503), timeout=15)
        yield server.url
    finally:
        group.stop("test over", timeout=10)




def wait_js(page: Any, expression: str, timeout: float = 15.0) -> None:
    """Poll ``expression`` from Python: ``page.wait_for_function`` would eval() in the page, which
    the dashboard's Content-Security-Policy forbids (as it should)."""
    until(lambda: page.evaluate(expression), timeout=timeout, what=expression)


def cards(page: Any) -> list[dict[str, str]]:
    return page.eval_on_selector_all("#pods > li.pod", "els => els.map(e => ({name: e.dataset.name, "
                                     "health: e.dataset.health, text: e.textContent, cls: e.className}))")


def save_screenshot(page: Any, places: list[Path], name: str) -> None:
    first = places[0] / name
    page.screenshot(path=str(first), full_page=False)
    assert first.stat().st_size > 10_000
    for place in places[1:]:
        shutil.copy(first, place / name)
