"""The inventory pipeline: providers -> enrichers -> synchronizer, with a ``sync_run`` record.

Providers discover concurrently; clusters are processed with bounded concurrency; every enricher
runs against every cluster (one failing enricher is recorded and hides nothing else); the rows the
enrichers contribute are merged per kind (``inventory.kinds``) and each cluster's rows, of every
registered kind, are written in one transaction. A provider or cluster that fails keeps its rows
exactly as they were; a provider whose discovery was partial (``PartialDiscovery``) has the
clusters it found synced and none of its clusters tombstoned. The run's ``sync_run`` row is kept
alive by a heartbeat (``inventory.runs``). Called by ``Nautilus.sync_inventory`` (and so ``nautilus inventory sync``).
"""

from __future__ import annotations

import threading
import time
import zlib
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import update
from sqlalchemy.engine import Engine

from nautilus_core.db import metadata, utcnow
from nautilus_core.errors import ConfigError, PartialDiscovery
from nautilus_core.inventory.kinds import BUILTIN_KINDS, merge_rows
from nautilus_core.inventory.parse import EXAMPLES, printable
from nautilus_core.inventory.runs import HEARTBEAT_INTERVAL, RunRecord
from nautilus_core.inventory.synchronizer import (
    MAX_KEY,
    clean,
    key_problem,
    purge_tombstones,
    tombstone_clusters,
    write_cluster,
)
from nautilus_core.logs import redact_text
from nautilus_core.types import ClusterProvider, ClusterRef, Enricher, Facts, Kind, column_owners, contributes

log = structlog.get_logger(__name__)
TABLES = metadata.tables


@dataclass(frozen=True)
class Shard:
    """``index``/``count``: this process syncs the clusters whose key hashes to ``index``."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        try:
            i, n = (int(p) for p in text.split("/"))
        except ValueError:
            raise ValueError(f"--shard {text!r}: expected I/N, e.g. 0/4") from None
        if not 0 <= i < n:
            raise ValueError(f"--shard {text!r}: I must be in 0..N-1")
        return cls(i, n)

    def owns(self, key: str) -> bool:
        return zlib.crc32(key.encode()) % self.count == self.index

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


@dataclass
class ScopeResult:
    provider: str
    cluster: str | None
    ok: bool
    error: str | None = None
    counts: dict[str, Any] = field(default_factory=dict)
    duration_s: float = 0.0


@dataclass
class SyncReport:
    run_id: int
    status: str
    outcomes: list[ScopeResult]
    duration_s: float
    tombstoned_clusters: list[str] = field(default_factory=list)
    purged: int = 0

    @property
    def failures(self) -> list[ScopeResult]:
        return [o for o in self.outcomes if not o.ok]

    @property
    def clusters_ok(self) -> int:
        return sum(1 for o in self.outcomes if o.cluster and o.ok)

    def summary(self) -> str:
        failed = ", ".join(f"{o.cluster or o.provider}" for o in self.failures)
        text = (f"sync run {self.run_id} {self.status}: {self.clusters_ok} clusters synced, "
                f"{len(self.failures)} failed in {self.duration_s:.1f}s")
        return text + (f" (failed: {failed})" if failed else "")


def _ref_problem(ref: ClusterRef) -> str | None:
    """Why a provider's cluster reference cannot be stored on every backend (``None``: it can)."""
    for part in ("provider", "account", "location", "name"):
        problem = key_problem(getattr(ref, part))
        if problem:
            return f"{part} {problem}"
    return None if len(ref.key) <= 3 * MAX_KEY else f"key longer than {3 * MAX_KEY} characters"


def _error_text(exc: BaseException) -> str:
    return redact_text(f"{type(exc).__name__}: {exc}")[:2000]


class InventorySync:
    """One sync run. ``run()`` returns a :class:`SyncReport`; it raises only on database failure
    at the start or end of the run (each cluster's own failure is recorded, not raised)."""

    def __init__(self, engine: Engine, providers: Mapping[str, ClusterProvider],
                 enrichers: Mapping[str, Enricher], *, kinds: Mapping[str, Kind] | None = None,
                 contexts: Sequence[str] = (),
                 concurrency: int = 4, enricher_concurrency: int = 4,
                 retention: timedelta = timedelta(days=30), shard: Shard | None = None,
                 progress: Callable[[ScopeResult], None] | None = None,
                 heartbeat: float = HEARTBEAT_INTERVAL) -> None:
        self.heartbeat = heartbeat
        self.engine = engine.execution_options(nautilus_sqlite_begin="IMMEDIATE")  # see ResourceStore
        self.providers, self.enrichers = dict(providers), dict(enrichers)
        self.kinds = dict(BUILTIN_KINDS if kinds is None else kinds)
        self._contributions = {name: contributes(e) for name, e in self.enrichers.items()}
        try:  # the plugin manager checks this at registration; callers building a sync by hand too
            column_owners(((f"enricher {n!r}", c) for n, c in self._contributions.items()), self.kinds)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        self.contexts = set(contexts)
        self.concurrency, self.enricher_concurrency = concurrency, enricher_concurrency
        self.retention, self.shard = retention, shard
        self.progress = progress
        # SQLite allows one writer: serialise our transactions instead of fighting over the lock.
        self._write_lock = threading.Lock() if engine.dialect.name == "sqlite" else None

    def run(self) -> SyncReport:
        started = time.monotonic()
        now = utcnow()
        scope = {"providers": sorted(self.providers), "contexts": sorted(self.contexts)}
        record = RunRecord(self.engine, self._writing, interval=self.heartbeat)
        run_id = record.start(now, scope=scope, shard=str(self.shard) if self.shard else None)
        try:
            return self._run(run_id, record, started, now)
        finally:
            record.stop()

    def _run(self, run_id: int, record: RunRecord, started: float, now: datetime) -> SyncReport:
        bound = log.bind(run_id=run_id)
        outcomes: list[ScopeResult] = []
        tombstoned: list[str] = []
        with ThreadPoolExecutor(max_workers=max(1, len(self.providers)),
                                thread_name_prefix="discover") as pool:
            discovered = dict(zip(self.providers, pool.map(self._discover, self.providers.values()),
                                  strict=True))
        work: list[tuple[ClusterProvider, ClusterRef]] = []
        for name, (result, failure) in discovered.items():
            provider = self.providers[name]
            if failure is not None:
                outcomes.append(failure)
                bound.warning("provider_failed", provider=name, error=failure.error, clusters_found=len(result))
            else:
                outcomes.append(ScopeResult(name, None, True, counts={"clusters": len(result)}))
            if failure is None and not self.contexts:  # only a complete answer may tombstone
                with self._writing(), self.engine.begin() as conn:
                    owns = self.shard.owns if self.shard else (lambda key: True)
                    tombstoned += tombstone_clusters(conn, name, {c.key for c in result}, now, owns)
            for ref in result:
                if self.contexts and ref.name not in self.contexts:
                    continue
                if self.shard and not self.shard.owns(ref.key):
                    continue
                work.append((provider, ref))
        with ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="cluster") as pool:
            for outcome in pool.map(lambda pr: self._sync_cluster(*pr), work):
                outcomes.append(outcome)
                if self.progress:
                    self.progress(outcome)
        purged = 0
        if self.retention.total_seconds() > 0:
            with self._writing(), self.engine.begin() as conn:
                purged = purge_tombstones(conn, self.retention, utcnow(), self.kinds)
        duration = time.monotonic() - started
        failures = [o for o in outcomes if not o.ok]
        # "failed" when nothing was written: no cluster synced, even in part (an enricher may fail alone)
        wrote = any(o.cluster and (o.ok or o.counts) for o in outcomes)
        status = "succeeded" if not failures else ("partial" if wrote else "failed")
        totals: dict[str, dict[str, int]] = {}
        for o in outcomes:
            for table, counts in o.counts.items():
                if isinstance(counts, dict):
                    bucket = totals.setdefault(table, {})
                    for k, v in counts.items():
                        bucket[k] = bucket.get(k, 0) + v
        error = "; ".join(f"{o.cluster or o.provider}: {o.error}" for o in failures)[:4000] or None
        record.stop()  # before taking the write lock the heartbeat may be waiting for
        with self._writing(), self.engine.begin() as conn:
            conn.execute(update(TABLES["sync_run"]).where(TABLES["sync_run"].c.id == run_id).values(
                finished_at=utcnow(), status=status, counts=totals | {"purged": purged,
                                                                      "clusters_tombstoned": len(tombstoned)},
                error=clean(error)))
            if outcomes:
                conn.execute(TABLES["sync_outcome"].insert(), [clean(
                    {"run_id": run_id, "provider": o.provider, "cluster_key": o.cluster,
                     "status": "ok" if o.ok else "failed", "error": o.error, "counts": o.counts,
                     "duration_s": round(o.duration_s, 4), "started_at": now}) for o in outcomes])
        bound.info("sync_finished", status=status, clusters=len(work), failed=len(failures),
                   duration_s=round(duration, 3))
        return SyncReport(run_id, status, outcomes, duration, tombstoned, purged)

    def _writing(self) -> Any:
        return self._write_lock or nullcontext()

    def _discover(self, provider: ClusterProvider) -> tuple[list[ClusterRef], ScopeResult | None]:
        """The clusters to sync and, when discovery was not complete, the provider's failure."""
        started = time.monotonic()
        try:
            return list(provider.discover()), None
        except PartialDiscovery as exc:
            found = [c for c in exc.clusters if isinstance(c, ClusterRef)]
            prefix = f"discovery incomplete ({len(found)} clusters found): " if found else ""
            error = redact_text(f"{prefix}{exc}")[:2000]
            return found, ScopeResult(provider.name, None, False, error, counts={"clusters": len(found)},
                                  duration_s=time.monotonic() - started)
        except Exception as exc:  # a provider failure must not stop the others
            return [], ScopeResult(provider.name, None, False, _error_text(exc), duration_s=time.monotonic() - started)

    def _sync_cluster(self, provider: ClusterProvider, ref: ClusterRef) -> ScopeResult:
        started = time.monotonic()
        invalid = _ref_problem(ref)
        if invalid:
            log.warning("cluster_invalid", cluster=printable(ref.key, 200), error=invalid)
            return ScopeResult(ref.provider, printable(ref.key, 200), False, f"invalid cluster reference: {invalid}")
        clog = log.bind(cluster=ref.key)
        try:
            kube = provider.connect(ref)
        except Exception as exc:
            clog.warning("cluster_connect_failed", error=_error_text(exc))
            return ScopeResult(ref.provider, ref.key, False, f"connect: {_error_text(exc)}",
                           duration_s=time.monotonic() - started)
        try:
            version, rows, problems, failed = self._enrich(ref, kube)
        finally:
            kube.close()
        enricher_errors = "; ".join(f"{p['enricher']}: {p['error']}" for p in problems if "enricher" in p)
        if failed == len(self.enrichers) and self.enrichers:
            clog.warning("cluster_failed", error=enricher_errors)
            return ScopeResult(ref.provider, ref.key, False, enricher_errors, duration_s=time.monotonic() - started)
        try:
            with self._writing(), self.engine.begin() as conn:
                counts = write_cluster(conn, ref, version, rows, problems, utcnow(), self.kinds)
        except Exception as exc:
            clog.error("cluster_write_failed", error=_error_text(exc))
            return ScopeResult(ref.provider, ref.key, False, f"database: {_error_text(exc)}",
                           duration_s=time.monotonic() - started)
        ok = failed == 0
        clog.info("cluster_synced", ok=ok, **counts)
        return ScopeResult(ref.provider, ref.key, ok, enricher_errors or None, counts, time.monotonic() - started)

    def _enrich(self, ref: ClusterRef, kube: Any) -> tuple[str | None, dict[str, list[dict[str, Any]]],
                                                          list[dict[str, Any]], int]:
        """The cluster's version, rows by kind, problems, and how many enrichers failed."""
        def one(enricher: Enricher) -> Facts | BaseException:
            try:
                return enricher.enrich(ref, kube)
            except Exception as exc:
                return exc

        names = list(self.enrichers)
        with ThreadPoolExecutor(max_workers=min(self.enricher_concurrency, max(1, len(names))),
                                thread_name_prefix="enrich") as pool:
            results = dict(zip(names, pool.map(one, self.enrichers.values()), strict=True))
        version: str | None = None
        problems: list[dict[str, Any]] = []
        labels: dict[str, int] = {}
        examples: dict[str, list[str]] = {}
        failed = 0
        for name, result in results.items():
            if isinstance(result, BaseException):
                failed += 1
                problems.append({"enricher": name, "error": _error_text(result)})
                continue
            if not isinstance(result, Facts):
                failed += 1
                results[name] = TypeError(f"returned {type(result).__name__}, not Facts")
                problems.append({"enricher": name, "error": f"returned {type(result).__name__}, not Facts"})
                continue
            if result.kubernetes_version is not None:
                version = result.kubernetes_version
            for label, count in result.problems.items():
                labels[label] = labels.get(label, 0) + count
            for label, objects in result.problem_objects.items():
                shown = examples.setdefault(label, [])
                shown += [printable(n, 120) for n in objects][:EXAMPLES - len(shown)]  # enrichers shorten to 80
        rows, merge_problems = merge_rows(self.kinds, self._contributions, results)
        for p in merge_problems:
            if "label" in p:
                labels[p["label"]] = labels.get(p["label"], 0) + p["count"]
            else:
                problems.append(p)
        problems += [{"label": label, "count": count} | ({"objects": examples[label]} if examples.get(label) else {})
                     for label, count in sorted(labels.items())]
        return version, rows, problems, failed
