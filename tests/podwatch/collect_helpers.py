"""Helpers of the collector tests: a populated emulator, a collector on it, rows read back in plain SQL,
and the ``nautilus`` CLI in a subprocess as users run it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

from nautilus_core.inventory.providers import KubeconfigProvider
from nautilus_core.podwatch.collect import Collector
from nautilus_core.podwatch.settings import PodwatchSettings
from nautilus_core.testing import FleetSpec

#: two namespaces (the second is Terminating, as in the fleet generator) of 14 pods: every pod state
SPEC = FleetSpec(namespaces=2, pods_per_namespace=14, nodes=3, services=2, seed=3, log_lines=12)


class Clock:
    """A clock the test moves: the collector's ``now`` (starts at the real time, as the fleet does)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


def collector(engine: Any, kubeconfig: Path, namespaces: list[str], clock: Callable[[], datetime] | None = None,
              **settings: Any) -> Collector:
    """A collector of ``namespaces`` over the kubeconfig provider, the way the CLI builds one."""
    section = PodwatchSettings(target_namespace=namespaces, **settings)
    provider = KubeconfigProvider(str(kubeconfig))
    return Collector(engine, {"kubeconfig": provider}, section, clock=clock or Clock())


def rows(engine: Any, sql: str, **params: Any) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(text(sql), params).mappings()]


def scalar(engine: Any, sql: str, **params: Any) -> Any:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def snapshot(engine: Any, skip: frozenset[str] = frozenset({"last_seen_at"})) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the triage tables (and clusters), minus the ``skip`` columns."""
    out = {}
    for table in ("cluster", "pod", "container", "log_line", "pod_event"):
        found = rows(engine, f"SELECT * FROM {table} ORDER BY id")
        out[table] = [tuple((k, v) for k, v in sorted(r.items()) if k not in skip) for r in found]
    return out


def as_time(value: Any) -> datetime | None:
    """A timestamp column read with plain SQL (SQLite answers text, PostgreSQL a datetime)."""
    if value is None or isinstance(value, datetime):
        return value
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def cli(*args: str, env: dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """``nautilus ARGS`` in a subprocess with ``env`` added to this environment."""
    return subprocess.run([sys.executable, "-m", "nautilus_core.cli", *args], env=os.environ | env,
                          capture_output=True, text=True, timeout=timeout)


def namespace_counts(engine: Any, namespace: str) -> tuple[int, int, int]:
    """(pods, containers, log entries) stored for the live pods of ``namespace``."""
    pods = scalar(engine, "SELECT count(*) FROM pod WHERE namespace = :ns AND deleted_at IS NULL", ns=namespace)
    containers = scalar(engine, "SELECT count(*) FROM container c JOIN pod p ON p.id = c.pod_id "
                                "WHERE p.namespace = :ns AND p.deleted_at IS NULL", ns=namespace)
    logs = scalar(engine, "SELECT count(*) FROM log_line l JOIN pod p ON p.id = l.pod_id "
                          "WHERE p.namespace = :ns AND p.deleted_at IS NULL", ns=namespace)
    return pods, containers, logs
