"""Controller fixtures: a Nautilus on the test database and a running runtime against the emulator."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import and_, select, update

from nautilus_core.api import Nautilus
from nautilus_core.config import load_settings
from nautilus_core.db import metadata
from nautilus_core.kube import RetryPolicy, connect
from nautilus_core.plugins import build_plugin_manager
from nautilus_core.testing import until

__all__ = ["FAST", "Rows", "make_ready", "until"]

RESOURCE = metadata.tables["managed_resource"]
FAST = {"reconcile_interval": 0.5, "worker_count": 2, "max_retries": 2, "backoff_base": 0.05,
        "backoff_max": 0.2, "metrics_port": 0, "health_check_port": 0, "namespace_prefix": "team-"}


class Rows:
    """Writes and reads managed_resource rows the way users do (plain SQL through Core)."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine

    def add(self, team: str, name: str, **values: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(RESOURCE.insert().values(team=team, name=name, **({"engine": "postgres"} | values)))

    def set(self, team: str, name: str, **values: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(RESOURCE).where(and_(RESOURCE.c.team == team, RESOURCE.c.name == name))
                         .values(**values))

    def get(self, team: str, name: str) -> dict[str, Any]:
        with self.engine.connect() as conn:
            return dict(conn.execute(select(RESOURCE).where(and_(RESOURCE.c.team == team, RESOURCE.c.name == name)))
                        .mappings().one())


def make_ready(emu: Any, namespace: str, name: str) -> None:
    """Play the StatefulSet controller and kubelet: every desired replica is up and ready."""
    sts = emu.get("apps/v1", "statefulsets", name, namespace)
    replicas = sts["spec"].get("replicas", 1)
    emu.patch("apps/v1", "statefulsets", name, {"status": {
        "replicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas,
        "observedGeneration": sts["metadata"]["generation"]}}, namespace=namespace)


@pytest.fixture
def app(engine: Any, db_url: str) -> Iterator[Nautilus]:
    nautilus = Nautilus(load_settings(database_url=db_url, **FAST), plugins=build_plugin_manager(entry_points=False))
    try:
        yield nautilus
    finally:
        nautilus.close()


@pytest.fixture
def rows(app: Nautilus) -> Rows:
    app.upgrade_database()
    return Rows(app.engine)


@pytest.fixture
def kube(kubeconfig_path: Any) -> Iterator[Any]:
    with connect(kubeconfig=str(kubeconfig_path), retry=RetryPolicy.off(), timeout=(2.0, 5.0)) as client:
        yield client


@pytest.fixture
def controller(app: Nautilus, kube: Any, kube_emulator: Any) -> Iterator[Callable[..., Any]]:
    """Factory: ``controller(**runtime_options)`` starts a runtime; all are stopped at teardown."""
    started: list[Any] = []
    for team in ("payments", "search"):
        kube_emulator.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": f"team-{team}"}})

    def start(start: bool = True, **options: Any) -> Any:
        options.setdefault("leader_election", False)
        options.setdefault("identity", f"test-{len(started)}")
        runtime = app.controller(["statefulsets"], kube=kube, watch_silence_timeout=5.0, **options)
        if start:
            runtime.start()
        started.append(runtime)
        return runtime

    yield start
    for runtime in started:
        runtime.stop()
