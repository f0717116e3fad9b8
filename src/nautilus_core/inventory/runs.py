"""The ``sync_run`` record of one inventory run: opened, kept alive by a heartbeat, closed; and
recognising runs whose process died (``kill -9``, OOM, a lost node) so they do not stay
``running`` forever.

A ``running`` run is dead when its heartbeat is older than ``STALE_AFTER``, or at once when it ran
on this host (same hostname and PID namespace) and its process no longer exists. The next run marks
dead runs ``interrupted`` in the database; the read side (``queries.runs``) shows them so before that.
Called by the inventory pipeline (``RunRecord``) and ``inventory.queries``.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import select, update
from sqlalchemy.engine import Connection, Engine

from nautilus_core.db import metadata, utcnow

log = structlog.get_logger(__name__)
SYNC_RUN = metadata.tables["sync_run"]
#: How often a live run refreshes ``heartbeat_at``.
HEARTBEAT_INTERVAL = 15.0
#: A ``running`` run whose heartbeat is older than this has died (8 missed heartbeats).
STALE_AFTER = timedelta(minutes=2)


def _pid_namespace() -> str:
    try:
        return os.readlink("/proc/self/ns/pid").removeprefix("pid:").strip("[]")
    except OSError:
        return ""


#: This process's host as recorded in ``sync_run.host``: a process id means something only within
#: one PID namespace (two pods on one node may share a hostname, never a PID namespace).
HOST = "/".join(p for p in (socket.gethostname(), _pid_namespace()) if p)[:255]


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: it exists, owned by someone else
        return True
    return True


def is_dead(run: Mapping[str, Any], now: datetime, host: str = HOST) -> bool:
    """Whether a ``sync_run`` row says ``running`` although its process is gone."""
    if run.get("status") != "running":
        return False
    pid = run.get("pid")
    if run.get("host") == host and isinstance(pid, int) and pid > 0 and not _alive(pid):
        return True
    last = run.get("heartbeat_at") or run.get("started_at")
    return last is not None and now - last > STALE_AFTER


def interrupted_error(run: Mapping[str, Any]) -> str:
    where = f" (pid {run['pid']} on {run['host']})" if run.get("pid") and run.get("host") else ""
    return f"interrupted: the process running this sync{where} stopped without finishing it"


def mark_interrupted(conn: Connection, now: datetime) -> list[int]:
    """Mark every dead ``running`` run ``interrupted``; returns their ids. Caller owns the transaction."""
    cols = [SYNC_RUN.c.id, SYNC_RUN.c.status, SYNC_RUN.c.started_at, SYNC_RUN.c.heartbeat_at,
            SYNC_RUN.c.host, SYNC_RUN.c.pid]
    running = [dict(r) for r in conn.execute(select(*cols).where(SYNC_RUN.c.status == "running")).mappings()]
    dead = [r for r in running if is_dead(r, now)]
    for run in dead:
        conn.execute(update(SYNC_RUN).where(SYNC_RUN.c.id == run["id"], SYNC_RUN.c.status == "running").values(
            status="interrupted", finished_at=run["heartbeat_at"] or run["started_at"],
            error=interrupted_error(run)))
    return [r["id"] for r in dead]


class RunRecord:
    """Opens a ``sync_run`` row (after marking dead runs ``interrupted``) and refreshes its heartbeat
    from a daemon thread until :meth:`stop`. ``writing`` serialises writes where the database needs it."""

    def __init__(self, engine: Engine, writing: Callable[[], AbstractContextManager[Any]],
                 interval: float = HEARTBEAT_INTERVAL) -> None:
        self.engine, self.writing, self.interval = engine, writing, interval
        self.run_id: int | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, started_at: datetime, **values: Any) -> int:
        with self.writing(), self.engine.begin() as conn:
            recovered = mark_interrupted(conn, started_at)
            self.run_id = conn.execute(SYNC_RUN.insert().values(
                started_at=started_at, heartbeat_at=started_at, status="running", host=HOST, pid=os.getpid(),
                **values).returning(SYNC_RUN.c.id)).scalar_one()
        if recovered:
            log.warning("sync_runs_interrupted", run_ids=recovered, run_id=self.run_id)
        self._thread = threading.Thread(target=self._beat, name=f"sync-run-{self.run_id}-heartbeat", daemon=True)
        self._thread.start()
        return self.run_id

    def _beat(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                with self.writing(), self.engine.begin() as conn:
                    conn.execute(update(SYNC_RUN).where(SYNC_RUN.c.id == self.run_id,
                                                        SYNC_RUN.c.status == "running").values(heartbeat_at=utcnow()))
            except Exception as exc:  # the database is down: the run itself will say so
                log.warning("sync_run_heartbeat_failed", run_id=self.run_id, error=type(exc).__name__)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
