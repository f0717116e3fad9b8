"""Database side of the statefulsets reconciler: read desired rows, poll changes, write observed
status back (only when it changed), record provisioning jobs and the audit log.

Called by ``reconcilers.statefulsets.reconciler``. Every method is one short transaction.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote

from sqlalchemy import and_, func, literal, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from nautilus_core.db import UTCDateTime, instant, metadata, utcnow
from nautilus_core.errors import NautilusError

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
NOTIFY_CHANNEL = "nautilus_managed_resource"
T = metadata.tables
RESOURCE, JOB, AUDIT = T["managed_resource"], T["provisioning_job"], T["audit_log"]
STATUS_COLUMNS = ("status", "ready_replicas", "status_message", "last_error", "observed_generation",
                  "failure_count", "parked", "spec_hash", "generation")


def make_key(team: str, name: str) -> str:
    """``team/name``; a ``/`` or ``%`` inside either part is escaped (``%2F``, ``%25``), so a row whose
    team is ``a/b`` still has one unambiguous key (and is then marked invalid, naming ``team``)."""
    return f"{_escape(team)}/{_escape(name)}"


def _escape(part: str) -> str:
    return part.replace("%", "%25").replace("/", "%2F")


def split_key(key: str) -> tuple[str, str]:
    team, _, name = key.partition("/")
    return unquote(team), unquote(name)


def row_version(row_id: Any, updated_at: Any) -> str:
    """A row's desired-state version: its id and ``updated_at`` (as read back, whatever the text form)."""
    return f"{row_id}@{updated_at.isoformat() if isinstance(updated_at, datetime) else updated_at}"


class RowVanished(NautilusError):
    """The row was deleted while it was being reconciled (a normal outcome, not a failure)."""


class ResourceStore:
    def __init__(self, engine: Engine, actor: str) -> None:
        self.engine = engine
        # Write transactions that read first must take SQLite's write lock up front: a deferred one
        # that upgrades fails at once with "database is locked" when another writer went first.
        self.writer = engine.execution_options(nautilus_sqlite_begin="IMMEDIATE")
        self.actor = actor
        self._since: datetime | None = None
        self._listener: Any = None
        self._open_jobs: set[int] = set()
        self._jobs_lock = threading.Lock()

    def load(self, key: str) -> dict[str, Any] | None:
        team, name = split_key(key)
        with self.engine.connect() as conn:
            row = conn.execute(select(RESOURCE).where(and_(RESOURCE.c.team == team, RESOURCE.c.name == name))
                               ).mappings().first()
        return dict(row) if row else None

    def keys(self) -> list[str]:
        """Every key (the resync). Rows written up to now are covered: the change feed starts here."""
        return [key for key, _version in self.versions()]

    def versions(self) -> list[tuple[str, str]]:
        """Every key with its row's version (id and ``updated_at``, which moves on every desired-state
        change), in one query; like :meth:`keys` it moves the change feed's start to now."""
        with self.engine.connect() as conn:
            newest = conn.execute(select(func.max(RESOURCE.c.updated_at))).scalar()
            rows = conn.execute(select(RESOURCE.c.id, RESOURCE.c.team, RESOURCE.c.name, RESOURCE.c.updated_at)
                                .order_by(RESOURCE.c.id)).all()
        if newest is not None and (self._since is None or newest > self._since):
            self._since = newest
        return [(make_key(team, name), row_version(rid, updated)) for rid, team, name, updated in rows]

    def namespaces(self, prefix: str) -> list[str]:
        with self.engine.connect() as conn:
            teams = conn.execute(select(RESOURCE.c.team).where(RESOURCE.c.lifecycle_mode == "full").distinct())
            return sorted(f"{prefix}{t}" for (t,) in teams)

    def changed(self) -> list[str]:
        """Keys of rows updated since the previous call or resync (a second of overlap, never a gap)."""
        with self.engine.connect() as conn:
            newest = conn.execute(select(func.max(RESOURCE.c.updated_at))).scalar()
            since = self._since or EPOCH
            if newest is None or newest <= since:
                return []  # nothing written since the last poll
            # rows written in the same instant as the last poll are read again: harmless, never lost
            rows = conn.execute(select(RESOURCE.c.team, RESOURCE.c.name).where(
                RESOURCE.c.updated_at >= since - timedelta(seconds=1))).all()
        self._since = max(since, newest)
        return [make_key(t, n) for t, n in rows]

    def notified(self, wait: float = 1.0) -> list[str]:
        """PostgreSQL only: keys announced by NOTIFY (migration 0003), waiting up to ``wait`` seconds.

        Keeps one LISTEN connection; if it breaks it is reopened on the next call (the poll and the
        resync cover the gap).
        """
        try:
            if self._listener is None:
                raw = self.engine.raw_connection()
                conn: Any = raw.driver_connection
                conn.autocommit = True
                conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                self._listener = raw
            conn = self._listener.driver_connection
            payloads = {n.payload for n in conn.notifies(timeout=wait, stop_after=1000)}
        except Exception:
            self.close()
            raise
        # The payload is team || '/' || name (migration 0003): unambiguous unless a part holds a '/'
        # or '%' (an invalid row); those are looked up to get their escaped key.
        odd = {p for p in payloads if p.count("/") != 1 or "%" in p}
        keys = payloads - odd
        if odd:
            with self.engine.connect() as db:
                found = db.execute(select(RESOURCE.c.team, RESOURCE.c.name).where(
                    (RESOURCE.c.team + "/" + RESOURCE.c.name).in_(sorted(odd))))
                keys |= {make_key(t, n) for t, n in found}
        return sorted(keys)

    def close(self) -> None:
        """Close the LISTEN connection, and close as ``interrupted`` the provisioning jobs this store
        started and never finished (the controller stopped in the middle of an action)."""
        with self._jobs_lock:
            open_jobs, self._open_jobs = sorted(self._open_jobs), set()
        if open_jobs:
            with contextlib.suppress(NautilusError), self.writer.begin() as conn:
                conn.execute(update(JOB).where(and_(JOB.c.id.in_(open_jobs), JOB.c.status == "running")).values(
                    status="interrupted", finished_at=utcnow(),
                    error="interrupted: the controller stopped before the action finished"))
        if self._listener is not None:
            listener, self._listener = self._listener, None
            with contextlib.suppress(Exception):
                listener.invalidate()

    def write_status(self, row: Mapping[str, Any], **values: Any) -> bool:
        """Update status columns that differ from ``row``; returns whether anything was written.

        ``updated_at`` is left alone: it tracks the desired state, which the controller never writes.
        """
        changed = {k: v for k, v in values.items() if row.get(k) != v}
        if not changed:
            return False
        # Optimistic: if the row changed since we read it, the change enqueues a fresh reconcile.
        # Compared as instants: a row typed in plain SQL holds another text form than we bind.
        read_at = instant(literal(row["updated_at"], UTCDateTime()))
        with self.writer.begin() as conn:
            result = conn.execute(update(RESOURCE).where(and_(RESOURCE.c.id == row["id"],
                                                              instant(RESOURCE.c.updated_at) == read_at))
                                  .values(**changed, reconciled_at=utcnow(), updated_at=row["updated_at"]))
        if result.rowcount:
            row.update(changed)  # type: ignore[attr-defined]
        return bool(result.rowcount)

    def unpark(self, key: str) -> bool:
        """Operator retry: clear the dead-letter mark and the failure count."""
        team, name = split_key(key)
        with self.writer.begin() as conn:
            result = conn.execute(update(RESOURCE).where(and_(RESOURCE.c.team == team, RESOURCE.c.name == name))
                                  .values(parked=False, failure_count=0, updated_at=utcnow()))
        return bool(result.rowcount)

    def job_started(self, resource_id: int, action: str) -> int:
        """A running provisioning job for ``action``: the unfinished one again (attempts + 1) or a new one.

        :raises RowVanished: the row was deleted meanwhile (its jobs went with it).
        """
        try:
            job_id = self._job_started(resource_id, action)
        except IntegrityError as exc:  # the foreign key: the row is gone
            if self._row_exists(resource_id):
                raise
            raise RowVanished(f"managed_resource id {resource_id} was deleted during the reconcile") from exc
        with self._jobs_lock:
            self._open_jobs.add(job_id)
        return job_id

    def _row_exists(self, resource_id: int) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(RESOURCE.c.id).where(RESOURCE.c.id == resource_id)).first() is not None

    def _job_started(self, resource_id: int, action: str) -> int:
        with self.writer.begin() as conn:
            open_job = conn.execute(select(JOB.c.id, JOB.c.attempts).where(and_(
                JOB.c.resource_id == resource_id, JOB.c.action == action, JOB.c.status != "succeeded"))
                .order_by(JOB.c.id.desc()).limit(1)).first()
            if open_job:
                conn.execute(update(JOB).where(JOB.c.id == open_job.id).values(
                    attempts=open_job.attempts + 1, status="running", finished_at=None))
                return int(open_job.id)
            return int(conn.execute(JOB.insert().values(resource_id=resource_id, action=action, status="running",
                                                        attempts=1, started_at=utcnow())
                                    .returning(JOB.c.id)).scalar_one())

    def job_finished(self, job_id: int, ok: bool, error: str | None = None) -> None:
        with self._jobs_lock:
            self._open_jobs.discard(job_id)
        with self.writer.begin() as conn:
            conn.execute(update(JOB).where(JOB.c.id == job_id).values(
                status="succeeded" if ok else "failed", finished_at=utcnow(), error=error))

    def audit(self, key: str, action: str, before: Any, after: Any, result: str, message: str | None = None) -> None:
        with self.writer.begin() as conn:
            conn.execute(AUDIT.insert().values(
                at=utcnow(), actor=self.actor, resource_kind="managed_resource", resource_key=key, action=action,
                before=before, after=after, result=result, message=message))

    def audit_entries(self, key: str | None = None) -> Iterable[dict[str, Any]]:
        query = select(AUDIT).order_by(AUDIT.c.id)
        if key:
            query = query.where(AUDIT.c.resource_key == key)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]
