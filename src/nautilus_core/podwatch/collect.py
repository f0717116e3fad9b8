"""The podwatch collector: pods, Events and recent logs of every cluster in scope, triaged and stored.

Owns one collection run (:meth:`Collector.run_once`): discover the clusters with the same providers
and credentials as the inventory (so pods hang off the inventory's ``cluster`` rows), then per
cluster list the pods of each namespace in scope (or of all) with their Events, triage each pod
(``podwatch.triage``), fetch the last ``LOG_TAIL_LINES`` lines of each container (and of its previous
instance after a restart) concurrently with a bound, classify them (``podwatch.logparse``) and write
everything in one transaction per cluster (``podwatch.store``) while the next batch's logs are in
flight. A namespace or cluster whose list fails is reported and left exactly as it was. Also
:class:`CollectorRunnable`, the same loop as an engine-v2 runnable (``podwatch serve --collect``).
Called by ``Nautilus.podwatch_collector`` (``nautilus podwatch collect``) and the web server.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.engine import Engine

from nautilus_core.cancellation import CancelToken
from nautilus_core.db import utcnow
from nautilus_core.db.clusters import cluster_identity, lock_or_create_cluster
from nautilus_core.errors import PartialDiscovery
from nautilus_core.podstatus import MalformedPod
from nautilus_core.podwatch.fetch import (
    Listing,
    LogFetcher,
    LogRequest,
    LogResult,
    error_text,
    list_scope,
    log_requests,
)
from nautilus_core.podwatch.rows import (
    Entry,
    container_rows,
    entries,
    event_row,
    malformed_pod_row,
    mapping,
    pod_row,
)
from nautilus_core.podwatch.settings import ALL_NAMESPACES, PodwatchSettings
from nautilus_core.podwatch.store import ClusterStore, PodItem
from nautilus_core.types import ClusterProvider, ClusterRef

log = structlog.get_logger(__name__)
#: pods whose logs are fetched, parsed and written together (the next batch is fetched meanwhile)
BATCH_PODS = 200


@dataclass
class NamespaceResult:
    cluster: str
    namespace: str
    pods: int = 0
    containers: int = 0
    logs: int = 0


@dataclass
class Failure:
    """A scope that could not be collected (its rows were left as they were)."""

    error: str
    cluster: str | None = None
    namespace: str | None = None
    provider: str | None = None

    def where(self) -> str:
        parts = [f"namespace={self.namespace}"] if self.namespace else []
        if self.cluster:
            parts.append(f"cluster={self.cluster}")
        elif self.provider:
            parts.append(f"provider={self.provider}")
        return " ".join(parts)


@dataclass
class CollectReport:
    results: list[NamespaceResult] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    #: rows written by table and action (``pod_inserted``, ``log_line_inserted``, ``pod_touched`` ...)
    stats: Counter[str] = field(default_factory=Counter)
    clusters: int = 0
    duration_s: float = 0.0

    def lines(self) -> list[str]:
        """The seed's line per namespace (with the cluster when several clusters were collected)."""
        several = len({r.cluster for r in self.results}) > 1 or self.clusters > 1
        return [f"Sync complete namespace={r.namespace} pods={r.pods} containers={r.containers} logs={r.logs}"
                + (f" cluster={r.cluster}" if several else "") for r in self.results]

    @property
    def writes(self) -> int:
        """Rows inserted, updated or deleted; not counted: ``last_seen_at`` touches (``pod_touched``) and
        refreshes of the columns that age with the clock (``pod_aged``, ``rows.AGING_COLUMNS``)."""
        return sum(v for k, v in self.stats.items() if not k.endswith(("_touched", "_aged")))


class Collector:
    """One collection run per :meth:`run_once`; see the module docstring."""

    def __init__(self, engine: Engine, providers: Mapping[str, ClusterProvider], settings: PodwatchSettings, *,
                 contexts: Sequence[str] = (), namespaces: Sequence[str] | None = None,
                 clock: Callable[[], datetime] = utcnow, batch_pods: int = BATCH_PODS) -> None:
        from nautilus_core.podwatch.triage import TriageOptions

        self.engine = engine.execution_options(nautilus_sqlite_begin="IMMEDIATE")
        self.providers, self.settings = dict(providers), settings
        self.contexts = set(contexts)
        scope = list(namespaces) if namespaces else list(settings.target_namespace)
        self.namespaces: list[str] | None = None if ALL_NAMESPACES in scope else scope
        self.clock, self.batch_pods = clock, max(1, batch_pods)
        self.options = TriageOptions(stuck_after=timedelta(seconds=settings.stuck_after))

    def runnable(self, interval: float) -> CollectorRunnable:
        """This collector as a runnable of the engine-v2 manager, collecting every ``interval`` seconds."""
        return CollectorRunnable(self, interval)

    # ------------------------------------------------------------------ the run

    def run_once(self) -> CollectReport:
        started = time.monotonic()
        report = CollectReport()
        for provider_name, provider in self.providers.items():
            for ref in self._discover(provider_name, provider, report):
                report.clusters += 1
                try:
                    kube = provider.connect(ref)
                except Exception as exc:
                    report.failures.append(Failure(f"connect: {error_text(exc)}", cluster=ref.key))
                    continue
                try:
                    self.collect_cluster(ref, kube, report)
                finally:
                    kube.close()
        report.duration_s = time.monotonic() - started
        log.info("podwatch_collected", clusters=report.clusters, namespaces=len(report.results),
                 failures=len(report.failures), writes=report.writes, duration_s=round(report.duration_s, 3))
        return report

    def _discover(self, name: str, provider: ClusterProvider, report: CollectReport) -> list[ClusterRef]:
        try:
            found = list(provider.discover())
        except PartialDiscovery as exc:  # the clusters it found are collected; the failure is reported
            found = [c for c in exc.clusters if isinstance(c, ClusterRef)]
            report.failures.append(Failure(f"discovery incomplete: {error_text(exc)}", provider=name))
        except Exception as exc:
            report.failures.append(Failure(f"discovery: {error_text(exc)}", provider=name))
            return []
        return [ref for ref in found if not self.contexts or ref.name in self.contexts]

    def collect_cluster(self, ref: ClusterRef, kube: Any, report: CollectReport) -> None:
        """List, triage, fetch logs and write one cluster (its failures go into ``report``)."""
        now = self.clock()
        scopes = [None] if self.namespaces is None else self.namespaces
        listings = [list_scope(kube, ns, page_size=self.settings.page_size) for ns in scopes]
        for listing in listings:
            if not listing.ok:
                report.failures.append(Failure(listing.error or "", cluster=ref.key,
                                               namespace=listing.namespace or ALL_NAMESPACES))
        ok = [listing for listing in listings if listing.ok]
        if not ok:
            return
        pods = [(pod, listing) for listing in ok for pod in listing.pods]
        by_pod = events_by_pod(pods)
        identity = cluster_identity(ref.provider, ref.name, ref.account, ref.location) | {"labels": dict(ref.labels)}
        counts: dict[str, NamespaceResult] = {}
        if self.namespaces is not None:
            counts = {listing.namespace or "": NamespaceResult(ref.key, listing.namespace or "") for listing in ok}
        try:
            with self.engine.begin() as conn, self._fetcher(kube) as fetcher:
                cluster_id, _ = lock_or_create_cluster(conn, identity, now, lock=False)
                store = ClusterStore(conn, cluster_id, now, max_lines=self.settings.max_lines_per_container)
                batches = [pods[i:i + self.batch_pods] for i in range(0, len(pods), self.batch_pods)]
                ahead = self._submit(fetcher, batches[0]) if batches else []
                for index, batch in enumerate(batches):
                    current, ahead = ahead, (self._submit(fetcher, batches[index + 1])
                                             if index + 1 < len(batches) else [])
                    items = self._items(batch, current, by_pod, now)
                    for item, written in zip(items, store.write(items), strict=True):
                        result = counts.setdefault(item.namespace, NamespaceResult(ref.key, item.namespace))
                        result.pods += 1
                        result.containers += written.containers
                        result.logs += written.logs
                store.mark_gone(None if self.namespaces is None else [ls.namespace or "" for ls in ok])
                if self.settings.retention > 0:
                    store.purge(timedelta(seconds=self.settings.retention))
        except Exception as exc:  # the database refused: nothing of this cluster was written
            log.error("podwatch_write_failed", cluster=ref.key, error=error_text(exc))
            report.failures.append(Failure(f"database: {error_text(exc)}", cluster=ref.key))
            return
        report.stats.update(store.stats)
        report.results += [counts[ns] for ns in sorted(counts)]

    def _fetcher(self, kube: Any) -> LogFetcher:
        from nautilus_core.podwatch.logparse import parse_log

        mask = self.settings.mask_secrets

        def parse(request: LogRequest, text: str) -> list[Entry]:  # in a pool thread, while others wait on I/O
            return entries(request.container, request.previous, parse_log(text, timestamps=True, mask=mask))

        return LogFetcher(kube, tail_lines=self.settings.log_tail_lines, concurrency=self.settings.log_concurrency,
                          parse=parse)

    # ------------------------------------------------------------------ per pod

    def _submit(self, fetcher: LogFetcher, batch: Sequence[tuple[dict[str, Any], Listing]]) -> list[Future[LogResult]]:
        return fetcher.submit(r for pod, _ in batch for r in log_requests(pod))

    def _items(self, batch: Sequence[tuple[dict[str, Any], Listing]], futures: list[Future[LogResult]],
               events_by_pod: Mapping[tuple[str, str], list[dict[str, Any]]], now: datetime) -> list[PodItem]:
        from nautilus_core.podwatch.triage import triage

        by_pod: dict[tuple[str, str], list[LogResult]] = {}
        for future in futures:
            result = future.result()
            by_pod.setdefault((result.request.namespace, result.request.pod), []).append(result)
        items = []
        for pod, listing in batch:
            namespace, name = _pod_key(pod)
            if not namespace or not name:
                log.warning("podwatch_pod_unnamed", namespace=listing.namespace or ALL_NAMESPACES)
                continue
            events = events_by_pod.get((namespace, name), [])
            problems: list[dict[str, Any]] = []
            found, failed = [], {}
            # the previous instance first: its entries get the lower sequence numbers
            for result in sorted(by_pod.get((namespace, name), []), key=lambda r: not r.request.previous):
                req = result.request
                if result.error is not None:
                    which = "previous instance of " if req.previous else ""
                    problems.append({"container": req.container, "previous": req.previous,
                                     "message": f"log of {which}container {req.container}: {result.error}"})
                    failed[req.container] = result.error
                else:
                    found += result.parsed
            try:
                verdict = triage(pod, events, now=now, options=self.options)
            except MalformedPod as exc:
                log.warning("podwatch_pod_malformed", namespace=namespace, pod=name, field=exc.field)
                item = PodItem(namespace, name, malformed_pod_row(namespace, name, exc.field, problems), [],
                               found, failed)
            else:
                item = PodItem(namespace, name, pod_row(verdict, namespace, name, problems),
                               container_rows(verdict), found, failed)
            if listing.events is not None:
                item.events = [row for row in (event_row(e) for e in events) if row is not None]
            items.append(item)
        return items


def _pod_key(pod: Mapping[str, Any]) -> tuple[str | None, str | None]:
    meta = pod.get("metadata")
    if not isinstance(meta, Mapping):
        return None, None
    namespace, name = meta.get("namespace"), meta.get("name")
    return (namespace if isinstance(namespace, str) else None), (name if isinstance(name, str) else None)


def events_by_pod(pods: Sequence[tuple[dict[str, Any], Listing]]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """The Events about each pod, matched by namespace/name (and uid when the Event names one: an
    Event about an earlier pod of the same name is not this pod's)."""
    uids: dict[tuple[str | None, str | None], Any] = {}
    listings: dict[int, Listing] = {}
    for pod, listing in pods:
        meta = pod.get("metadata")
        uids[_pod_key(pod)] = meta.get("uid") if isinstance(meta, Mapping) else None
        listings[id(listing)] = listing
    out: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for listing in listings.values():
        for event in listing.events or ():
            obj = event.get("involvedObject") if isinstance(event, Mapping) else None
            if not isinstance(obj, Mapping) or obj.get("kind") not in (None, "Pod"):
                continue
            meta = mapping(event.get("metadata"))
            key = (obj.get("namespace") or meta.get("namespace"), obj.get("name"))
            if key not in uids or (obj.get("uid") and uids[key] and obj.get("uid") != uids[key]):
                continue
            out.setdefault(key, []).append(event)  # type: ignore[arg-type]
    return out


class CollectorRunnable:
    """The collector as an engine-v2 runnable: a run every ``interval`` seconds until cancelled; a failed
    run is logged and the loop goes on."""

    name = "podwatch-collector"

    def __init__(self, collector: Collector, interval: float) -> None:
        self.collector, self.interval = collector, interval
        self.last_report: CollectReport | None = None

    def run(self, token: CancelToken) -> None:
        while not token.cancelled:
            try:
                self.last_report = self.collector.run_once()
            except Exception as exc:
                log.warning("podwatch_collect_failed", error=error_text(exc))
            if token.wait(self.interval):
                return
